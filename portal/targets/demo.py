"""Demo rows: the district's learning targets (math, ELA, science, learner skills) and scales."""

from __future__ import annotations

from portal.targets.models import Framework, Target, TargetKind
from portal.targets.scales import scale_for_school

# One framework per "# title | subject" line; then groups ("CODE | statement") and,
# indented, targets ("CODE | grades | I can ...") each followed by
# "= family wording" and "~ the same in Spanish".
TARGETS = """
# Mathematics Learning Targets | Mathematics
MATH.OA | Operations and Algebraic Thinking
    MATH.3.OA.1 | 3 | I can explain multiplication as equal groups, like 5 groups of 7.
        = Sees 5 × 7 as five groups with seven in each group.
        ~ Ve 5 × 7 como cinco grupos de siete.
    MATH.3.OA.7 | 3 | I can multiply and divide within 100 quickly and accurately.
        = Knows times tables up to 10 × 10 and the matching divisions.
        ~ Sabe las tablas de multiplicar hasta el 10 × 10 y las divisiones que les corresponden.
    MATH.4.OA.3 | 4 | I can solve word problems with several steps using all four operations.
        = Works through story problems that take more than one step.
        ~ Resuelve problemas de la vida diaria que tienen más de un paso.
MATH.NF | Number and Operations: Fractions
    MATH.3.NF.1 | 3 | I can explain what the top and bottom numbers of a fraction mean.
        = Understands that 3/4 means 3 of 4 equal parts.
        ~ Entiende que 3/4 quiere decir 3 de 4 partes iguales.
    MATH.3.NF.3 | 3 | I can compare two fractions by reasoning about their size.
        = Can tell which is bigger, 2/3 or 2/5, and explain why.
        ~ Sabe decir qué es más grande, 2/3 o 2/5, y explica por qué.
    MATH.4.NF.1 | 4 | I can explain why two fractions are equivalent using a model.
        = Shows with drawings that 1/2 and 2/4 are the same amount.
        ~ Muestra con dibujos que 1/2 y 2/4 son la misma cantidad.
    MATH.4.NF.3 | 4 | I can add and subtract fractions with the same denominator.
        = Adds fractions like 2/8 + 3/8.
        ~ Suma fracciones como 2/8 + 3/8.
    MATH.5.NF.1 | 5 | I can add and subtract fractions with unlike denominators.
        = Adds fractions like 1/3 + 1/4 by finding a common denominator.
        ~ Suma fracciones como 1/3 + 1/4 buscando un denominador común.
    MATH.5.NF.4 | 5 | I can multiply a fraction by a whole number or a fraction.
        = Figures out problems like 2/3 of 12.
        ~ Resuelve problemas como 2/3 de 12.
MATH.RP | Ratios and Proportional Relationships
    MATH.6.RP.1 | 6 | I can describe a ratio relationship between two quantities.
        = Explains comparisons like 3 cups of flour for every 2 eggs.
        ~ Explica comparaciones como 3 tazas de harina por cada 2 huevos.
    MATH.6.RP.3 | 6 | I can use rates and tables to solve real-world ratio problems.
        = Uses unit prices and tables to compare deals.
        ~ Usa precios por unidad y tablas para comparar ofertas.
    MATH.7.RP.2 | 7 | I can recognize and represent proportional relationships.
        = Spots when two amounts grow at the same rate, in tables and graphs.
        ~ Reconoce cuándo dos cantidades crecen al mismo ritmo, en tablas y gráficas.
    MATH.7.RP.3 | 7 | I can solve multi-step percent problems, like tax, tips and discounts.
        = Figures out sale prices, tips and tax.
        ~ Calcula precios con descuento, propinas e impuestos.
MATH.EE | Expressions and Equations
    MATH.6.EE.2 | 6 | I can write and evaluate expressions with variables.
        = Uses letters to stand for numbers, like 3n + 2.
        ~ Usa letras en lugar de números, como 3n + 2.
    MATH.7.EE.1 | 7 | I can add, subtract, factor and expand linear expressions.
        = Simplifies expressions like 2(x + 3) + 4x.
        ~ Simplifica expresiones como 2(x + 3) + 4x.
    MATH.7.EE.4 | 7 | I can write and solve equations and inequalities for word problems.
        = Turns a story problem into an equation and solves it.
        ~ Convierte un problema en una ecuación y la resuelve.
    MATH.8.EE.7 | 8 | I can solve linear equations with variables on both sides.
        = Solves equations like 3x + 5 = x + 11.
        ~ Resuelve ecuaciones como 3x + 5 = x + 11.
    MATH.8.EE.8 | 8 | I can solve a system of two linear equations.
        = Finds where two lines meet, by graphing or by algebra.
        ~ Encuentra dónde se cruzan dos rectas, con una gráfica o con álgebra.
MATH.F | Functions and Algebra
    MATH.8.F.3 | 8 | I can tell whether a function is linear from its equation, table or graph.
        = Recognizes straight-line patterns in tables and graphs.
        ~ Reconoce patrones de línea recta en tablas y gráficas.
    MATH.HS.A.CED.1 | 9-10 | I can write and solve equations in one variable that model problems.
        = Writes equations that model real situations and solves them.
        ~ Escribe ecuaciones que representan situaciones reales y las resuelve.
    MATH.HS.F.IF.4 | 9-11 | I can interpret the key features of a graph in a real situation.
        = Explains what the high points, slopes and intercepts of a graph mean.
        ~ Explica qué dicen de una gráfica sus puntos más altos, su pendiente y sus cortes.
    MATH.HS.F.LE.1 | 9-12 | I can tell linear growth from exponential growth.
        = Tells apart steady growth from growth that keeps doubling.
        ~ Distingue el crecimiento constante del crecimiento que se duplica una y otra vez.
MATH.G | Geometry
    MATH.7.G.4 | 7 | I can use the formulas for the area and circumference of a circle.
        = Finds the distance around and the space inside a circle.
        ~ Calcula el contorno y el espacio dentro de un círculo.
    MATH.8.G.7 | 8 | I can use the Pythagorean theorem to find unknown side lengths.
        = Finds a missing side of a right triangle.
        ~ Encuentra el lado que falta de un triángulo rectángulo.
    MATH.HS.G.CO.10 | 10 | I can prove theorems about triangles.
        = Writes step-by-step arguments about why triangle facts are true.
        ~ Explica paso a paso por qué son ciertas las propiedades de los triángulos.
    MATH.HS.G.SRT.8 | 10 | I can use trigonometric ratios to solve right-triangle problems.
        = Uses sine, cosine and tangent to find heights and distances.
        ~ Usa el seno, el coseno y la tangente para calcular alturas y distancias.
MATH.SP | Statistics and Probability
    MATH.7.SP.1 | 7 | I can explain why a random sample lets us make claims about a population.
        = Understands why surveys pick people at random.
        ~ Entiende por qué en las encuestas se elige a las personas al azar.
    MATH.HS.S.ID.6 | 11-12 | I can fit a line to data and use it to make predictions.
        = Draws a trend line through data and uses it to predict.
        ~ Traza una línea de tendencia entre los datos y la usa para predecir.
    MATH.HS.S.IC.1 | 12 | I can explain how a sample lets us draw conclusions about a population.
        = Explains how a sample can tell us about a whole group.
        ~ Explica cómo una muestra nos dice algo sobre todo un grupo.
# English Language Arts Learning Targets | English Language Arts
ELA.RL | Reading Literature
    ELA.3.RL.2 | 3 | I can retell a story and explain its lesson or message.
        = Retells stories and says what lesson the story teaches.
        ~ Vuelve a contar cuentos y dice qué enseñanza deja el cuento.
    ELA.5.RL.2 | 5 | I can find the theme of a story and summarize it.
        = Finds the big idea of a story and sums it up.
        ~ Encuentra la idea principal de un cuento y la resume.
    ELA.7.RL.3 | 7 | I can analyze how setting and characters shape the plot.
        = Explains how where a story happens and who is in it change what happens.
        ~ Explica cómo el lugar de la historia y sus personajes cambian lo que pasa.
    ELA.9.RL.2 | 9-10 | I can trace how a theme develops across a text.
        = Follows how the big idea of a book grows chapter by chapter.
        ~ Sigue cómo crece la idea principal de un libro capítulo por capítulo.
    ELA.11.RL.4 | 11-12 | I can analyze how an author's word choices create meaning and tone.
        = Explains how the author's words set the mood.
        ~ Explica cómo las palabras del autor crean el ambiente de la historia.
ELA.RI | Reading Informational Text
    ELA.4.RI.2 | 4 | I can find the main idea of a text and the details that support it.
        = Tells what an article is mostly about and how they know.
        ~ Dice de qué trata principalmente un artículo y cómo lo sabe.
    ELA.6.RI.8 | 6 | I can trace an argument and tell supported claims from unsupported ones.
        = Checks whether a writer backs up what they say.
        ~ Revisa si un escritor apoya lo que dice con pruebas.
    ELA.7.RI.2 | 7 | I can find two central ideas in a text and summarize them objectively.
        = Sums up the main points of an article without adding opinions.
        ~ Resume las ideas principales de un artículo sin agregar opiniones.
    ELA.8.RI.6 | 8 | I can determine an author's point of view and how they answer other views.
        = Explains what the author thinks and how they respond to people who disagree.
        ~ Explica lo que piensa el autor y cómo responde a quienes no están de acuerdo.
    ELA.11.RI.7 | 11-12 | I can combine information from several sources to answer a question.
        = Pulls facts from different sources together to answer a question.
        ~ Junta datos de distintas fuentes para responder una pregunta.
ELA.W | Writing
    ELA.3.W.1 | 3 | I can write an opinion piece with reasons.
        = Writes what they think and gives reasons why.
        ~ Escribe lo que piensa y da razones.
    ELA.5.W.2 | 5 | I can write an informative text that groups related information.
        = Writes reports that keep related facts together.
        ~ Escribe informes que mantienen juntos los datos relacionados.
    ELA.7.W.1 | 7 | I can write an argument with a clear claim and relevant evidence.
        = Writes to convince, using a clear point and real evidence.
        ~ Escribe para convencer, con una idea clara y pruebas reales.
    ELA.7.W.5 | 6-8 | I can plan, revise and edit my writing with help from peers and adults.
        = Improves drafts using feedback from classmates and teachers.
        ~ Mejora sus borradores con los comentarios de compañeros y maestros.
    ELA.9.W.1 | 9-10 | I can write an argument that addresses counterclaims.
        = Writes arguments that answer the other side fairly.
        ~ Escribe argumentos que responden con justicia al otro punto de vista.
    ELA.11.W.7 | 11-12 | I can carry out a research project that answers a question I chose.
        = Researches a question of their own and reports what they found.
        ~ Investiga una pregunta propia y cuenta lo que encontró.
ELA.SL | Speaking and Listening
    ELA.4.SL.1 | 4 | I can take part in a discussion by building on what others say.
        = Joins class talks and adds to others' ideas.
        ~ Participa en las conversaciones de la clase y suma a las ideas de otros.
    ELA.8.SL.4 | 8 | I can present claims and findings with clear reasons and eye contact.
        = Gives clear, well-organized presentations.
        ~ Da presentaciones claras y bien organizadas.
# Science Learning Targets | Science
SCI.PS | Physical Science
    SCI.3.PS2.1 | 3 | I can plan an investigation about balanced and unbalanced forces.
        = Tests how pushes and pulls change how things move.
        ~ Prueba cómo los empujones y los jalones cambian el movimiento de las cosas.
    SCI.MS.PS1.1 | 6-8 | I can build models of atoms and molecules.
        = Makes models that show what substances are made of.
        ~ Hace modelos que muestran de qué están hechas las sustancias.
    SCI.MS.PS1.2 | 6-8 | I can use data to tell whether a chemical reaction has happened.
        = Looks for signs like color change or gas to spot a reaction.
        ~ Busca señales, como un cambio de color o burbujas, para reconocer una reacción.
    SCI.MS.PS3.3 | 6-8 | I can design a device that reduces or increases heat transfer.
        = Designs and tests something that keeps a drink hot or cold.
        ~ Diseña y prueba algo que mantenga una bebida caliente o fría.
    SCI.HS.PS1.7 | 11 | I can use math to show that mass is conserved in a chemical reaction.
        = Balances chemical equations and explains why mass stays the same.
        ~ Balancea ecuaciones químicas y explica por qué la masa no cambia.
SCI.LS | Life Science
    SCI.4.LS1.1 | 4 | I can explain how plant and animal structures help them survive.
        = Explains how parts like thorns or shells help living things.
        ~ Explica cómo partes como las espinas o los caparazones ayudan a los seres vivos.
    SCI.MS.LS1.1 | 6-8 | I can give evidence that living things are made of cells.
        = Uses microscope observations to show living things are made of cells.
        ~ Usa el microscopio para mostrar que los seres vivos están hechos de células.
    SCI.MS.LS2.3 | 6-8 | I can model how matter and energy move through an ecosystem.
        = Draws food webs that show how energy moves.
        ~ Dibuja redes alimentarias que muestran cómo se mueve la energía.
    SCI.HS.LS1.1 | 10 | I can explain how DNA determines the structure of proteins.
        = Explains how genes carry instructions for building the body.
        ~ Explica cómo los genes llevan las instrucciones para formar el cuerpo.
    SCI.HS.LS4.4 | 10 | I can explain how natural selection leads to adaptation.
        = Explains how living things change over many generations.
        ~ Explica cómo cambian los seres vivos a lo largo de muchas generaciones.
SCI.ESS | Earth and Space Science
    SCI.5.ESS1.2 | 5 | I can show patterns of shadows, day and night, and the seasons.
        = Uses graphs to show how shadows and daylight change over the year.
        ~ Usa gráficas para mostrar cómo cambian las sombras y la luz del día durante el año.
    SCI.MS.ESS3.5 | 6-8 | I can ask questions about evidence for rising global temperatures.
        = Asks and investigates good questions about climate data.
        ~ Hace buenas preguntas sobre datos del clima y las investiga.
SCI.ETS | Engineering Design
    SCI.MS.ETS1.2 | 6-8 | I can judge competing designs against criteria and constraints.
        = Compares designs fairly using a checklist of what the design must do.
        ~ Compara diseños de forma justa con una lista de lo que el diseño debe lograr.
    SCI.HS.ETS1.2 | 9-12 | I can break a complex real-world problem into smaller ones.
        = Splits a big problem into smaller parts to tackle one by one.
        ~ Divide un problema grande en partes más pequeñas para resolverlas una por una.
# Learner-Driven Skills | Cross-cutting skills
SKILL.SD | Self-Direction
    SKILL.SD.1 | 3-5 | I can set a goal for my learning and say why it matters to me.
        = Chooses a learning goal and explains why it is important to them.
        ~ Elige una meta de aprendizaje y explica por qué es importante para él o ella.
    SKILL.SD.2 | 3-12 | I can choose strategies that help me reach my goal.
        = Picks ways to practice that work for them.
        ~ Escoge formas de practicar que le funcionan.
    SKILL.SD.3 | 6-12 | I can plan the steps and time I need to reach a goal.
        = Breaks a goal into steps and plans when to do them.
        ~ Divide una meta en pasos y planea cuándo hacerlos.
    SKILL.SD.4 | 6-12 | I can monitor my progress with evidence and adjust my plan.
        = Checks how they are doing and changes the plan when needed.
        ~ Revisa cómo va y cambia el plan cuando hace falta.
    SKILL.SD.5 | 3-12 | I can ask for help when I am stuck and say what I need.
        = Asks for help and explains what kind of help they need.
        ~ Pide ayuda y explica qué tipo de ayuda necesita.
    SKILL.SD.6 | 9-12 | I can connect my learning goals to my future plans.
        = Links schoolwork to the careers and plans they care about.
        ~ Relaciona el trabajo escolar con las carreras y los planes que le importan.
SKILL.CO | Collaboration
    SKILL.CO.1 | 3-12 | I can listen to others' ideas and build on them.
        = Listens to teammates and adds to their ideas.
        ~ Escucha a sus compañeros de equipo y suma a sus ideas.
    SKILL.CO.2 | 3-12 | I can share the work fairly and do my part on a team.
        = Does their share of group work.
        ~ Hace su parte del trabajo en grupo.
    SKILL.CO.3 | 6-12 | I can give and receive feedback that is kind, specific and helpful.
        = Gives classmates helpful comments and uses comments they get.
        ~ Da comentarios útiles a sus compañeros y usa los comentarios que recibe.
    SKILL.CO.4 | 6-12 | I can help my team work through disagreements.
        = Helps the group settle disagreements respectfully.
        ~ Ayuda al grupo a resolver desacuerdos con respeto.
SKILL.RE | Reflection
    SKILL.RE.1 | 3-12 | I can describe what I learned and how I learned it.
        = Talks about what they learned and what helped.
        ~ Habla de lo que aprendió y de lo que le ayudó.
    SKILL.RE.2 | 6-12 | I can look at a setback and name what I will try next.
        = Treats mistakes as a step and plans what to try next.
        ~ Ve los errores como un paso y planea qué intentar después.
"""


def parse(text: str = TARGETS) -> list[tuple[str, str, list]]:
    """[(title, subject, [(code, statement, [(code, low, high, statement, family, es)])])].

    `es` is the family wording in Spanish.
    """
    frameworks: list[tuple[str, str, list]] = []
    groups: list = []
    targets: list = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        parts = [part.strip() for part in line.lstrip("#=").split("|")]
        if line.startswith("#"):  # a framework
            frameworks.append((parts[0], parts[1], []))
            groups = frameworks[-1][2]
        elif line.startswith("="):  # the family wording of the target above
            targets[-1] = (*targets[-1][:4], parts[0], None)
        elif line.startswith("~"):  # the same family wording in Spanish
            targets[-1] = (*targets[-1][:5], line.lstrip("~ "))
        elif raw.startswith("    "):  # a target
            low, _, high = parts[1].partition("-")
            targets.append((parts[0], int(low), int(high or low), parts[2], None, None))
        else:  # a group
            groups.append((parts[0], parts[1], []))
            targets = groups[-1][2]
    return frameworks


def seed(demo) -> None:
    """The district's four frameworks (about 90 targets) and a default scale for each school."""
    for title, subject, groups in parse():
        framework = Framework(org_id=demo.district.id, title=title, subject=subject)
        demo.session.add(framework)
        for group_position, (group_code, group_statement, targets) in enumerate(groups, 1):
            lows, highs = [t[1] for t in targets], [t[2] for t in targets]
            group = Target(
                framework=framework,
                kind=TargetKind.GROUP,
                code=group_code,
                statement=group_statement,
                grade_low=min(lows),
                grade_high=max(highs),
                position=group_position,
            )
            demo.session.add(group)
            for position, (code, low, high, statement, family, family_es) in enumerate(targets, 1):
                demo.session.add(
                    Target(
                        framework=framework,
                        parent=group,
                        kind=TargetKind.TARGET,
                        code=code,
                        statement=statement,
                        family_statement=family,
                        family_statement_es=family_es,
                        grade_low=low,
                        grade_high=high,
                        position=position,
                    )
                )
    demo.session.flush()
    for school in demo.schools:
        scale_for_school(school.id)
