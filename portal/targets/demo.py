"""Demo rows: the district's learning targets (math, ELA, science, learner skills) and scales."""

from __future__ import annotations

from portal.targets.models import Framework, Target, TargetKind
from portal.targets.queries import scale_for_school

# One framework per "# title | subject" line; then groups ("CODE | statement") and,
# indented, targets ("CODE | grades | I can ...") each followed by "= family wording".
TARGETS = """
# Mathematics Learning Targets | Mathematics
MATH.OA | Operations and Algebraic Thinking
    MATH.3.OA.1 | 3 | I can explain multiplication as equal groups, like 5 groups of 7.
        = Sees 5 × 7 as five groups with seven in each group.
    MATH.3.OA.7 | 3 | I can multiply and divide within 100 quickly and accurately.
        = Knows times tables up to 10 × 10 and the matching divisions.
    MATH.4.OA.3 | 4 | I can solve word problems with several steps using all four operations.
        = Works through story problems that take more than one step.
MATH.NF | Number and Operations: Fractions
    MATH.3.NF.1 | 3 | I can explain what the top and bottom numbers of a fraction mean.
        = Understands that 3/4 means 3 of 4 equal parts.
    MATH.3.NF.3 | 3 | I can compare two fractions by reasoning about their size.
        = Can tell which is bigger, 2/3 or 2/5, and explain why.
    MATH.4.NF.1 | 4 | I can explain why two fractions are equivalent using a model.
        = Shows with drawings that 1/2 and 2/4 are the same amount.
    MATH.4.NF.3 | 4 | I can add and subtract fractions with the same denominator.
        = Adds fractions like 2/8 + 3/8.
    MATH.5.NF.1 | 5 | I can add and subtract fractions with unlike denominators.
        = Adds fractions like 1/3 + 1/4 by finding a common denominator.
    MATH.5.NF.4 | 5 | I can multiply a fraction by a whole number or a fraction.
        = Figures out problems like 2/3 of 12.
MATH.RP | Ratios and Proportional Relationships
    MATH.6.RP.1 | 6 | I can describe a ratio relationship between two quantities.
        = Explains comparisons like 3 cups of flour for every 2 eggs.
    MATH.6.RP.3 | 6 | I can use rates and tables to solve real-world ratio problems.
        = Uses unit prices and tables to compare deals.
    MATH.7.RP.2 | 7 | I can recognize and represent proportional relationships.
        = Spots when two amounts grow at the same rate, in tables and graphs.
    MATH.7.RP.3 | 7 | I can solve multi-step percent problems, like tax, tips and discounts.
        = Figures out sale prices, tips and tax.
MATH.EE | Expressions and Equations
    MATH.6.EE.2 | 6 | I can write and evaluate expressions with variables.
        = Uses letters to stand for numbers, like 3n + 2.
    MATH.7.EE.1 | 7 | I can add, subtract, factor and expand linear expressions.
        = Simplifies expressions like 2(x + 3) + 4x.
    MATH.7.EE.4 | 7 | I can write and solve equations and inequalities for word problems.
        = Turns a story problem into an equation and solves it.
    MATH.8.EE.7 | 8 | I can solve linear equations with variables on both sides.
        = Solves equations like 3x + 5 = x + 11.
    MATH.8.EE.8 | 8 | I can solve a system of two linear equations.
        = Finds where two lines meet, by graphing or by algebra.
MATH.F | Functions and Algebra
    MATH.8.F.3 | 8 | I can tell whether a function is linear from its equation, table or graph.
        = Recognizes straight-line patterns in tables and graphs.
    MATH.HS.A.CED.1 | 9-10 | I can write and solve equations in one variable that model problems.
        = Writes equations that model real situations and solves them.
    MATH.HS.F.IF.4 | 9-11 | I can interpret the key features of a graph in a real situation.
        = Explains what the high points, slopes and intercepts of a graph mean.
    MATH.HS.F.LE.1 | 9-12 | I can tell linear growth from exponential growth.
        = Tells apart steady growth from growth that keeps doubling.
MATH.G | Geometry
    MATH.7.G.4 | 7 | I can use the formulas for the area and circumference of a circle.
        = Finds the distance around and the space inside a circle.
    MATH.8.G.7 | 8 | I can use the Pythagorean theorem to find unknown side lengths.
        = Finds a missing side of a right triangle.
    MATH.HS.G.CO.10 | 10 | I can prove theorems about triangles.
        = Writes step-by-step arguments about why triangle facts are true.
    MATH.HS.G.SRT.8 | 10 | I can use trigonometric ratios to solve right-triangle problems.
        = Uses sine, cosine and tangent to find heights and distances.
MATH.SP | Statistics and Probability
    MATH.7.SP.1 | 7 | I can explain why a random sample lets us make claims about a population.
        = Understands why surveys pick people at random.
    MATH.HS.S.ID.6 | 11-12 | I can fit a line to data and use it to make predictions.
        = Draws a trend line through data and uses it to predict.
    MATH.HS.S.IC.1 | 12 | I can explain how a sample lets us draw conclusions about a population.
        = Explains how a sample can tell us about a whole group.
# English Language Arts Learning Targets | English Language Arts
ELA.RL | Reading Literature
    ELA.3.RL.2 | 3 | I can retell a story and explain its lesson or message.
        = Retells stories and says what lesson the story teaches.
    ELA.5.RL.2 | 5 | I can find the theme of a story and summarize it.
        = Finds the big idea of a story and sums it up.
    ELA.7.RL.3 | 7 | I can analyze how setting and characters shape the plot.
        = Explains how where a story happens and who is in it change what happens.
    ELA.9.RL.2 | 9-10 | I can trace how a theme develops across a text.
        = Follows how the big idea of a book grows chapter by chapter.
    ELA.11.RL.4 | 11-12 | I can analyze how an author's word choices create meaning and tone.
        = Explains how the author's words set the mood.
ELA.RI | Reading Informational Text
    ELA.4.RI.2 | 4 | I can find the main idea of a text and the details that support it.
        = Tells what an article is mostly about and how they know.
    ELA.6.RI.8 | 6 | I can trace an argument and tell supported claims from unsupported ones.
        = Checks whether a writer backs up what they say.
    ELA.7.RI.2 | 7 | I can find two central ideas in a text and summarize them objectively.
        = Sums up the main points of an article without adding opinions.
    ELA.8.RI.6 | 8 | I can determine an author's point of view and how they answer other views.
        = Explains what the author thinks and how they respond to people who disagree.
    ELA.11.RI.7 | 11-12 | I can combine information from several sources to answer a question.
        = Pulls facts from different sources together to answer a question.
ELA.W | Writing
    ELA.3.W.1 | 3 | I can write an opinion piece with reasons.
        = Writes what they think and gives reasons why.
    ELA.5.W.2 | 5 | I can write an informative text that groups related information.
        = Writes reports that keep related facts together.
    ELA.7.W.1 | 7 | I can write an argument with a clear claim and relevant evidence.
        = Writes to convince, using a clear point and real evidence.
    ELA.7.W.5 | 6-8 | I can plan, revise and edit my writing with help from peers and adults.
        = Improves drafts using feedback from classmates and teachers.
    ELA.9.W.1 | 9-10 | I can write an argument that addresses counterclaims.
        = Writes arguments that answer the other side fairly.
    ELA.11.W.7 | 11-12 | I can carry out a research project that answers a question I chose.
        = Researches a question of their own and reports what they found.
ELA.SL | Speaking and Listening
    ELA.4.SL.1 | 4 | I can take part in a discussion by building on what others say.
        = Joins class talks and adds to others' ideas.
    ELA.8.SL.4 | 8 | I can present claims and findings with clear reasons and eye contact.
        = Gives clear, well-organized presentations.
# Science Learning Targets | Science
SCI.PS | Physical Science
    SCI.3.PS2.1 | 3 | I can plan an investigation about balanced and unbalanced forces.
        = Tests how pushes and pulls change how things move.
    SCI.MS.PS1.1 | 6-8 | I can build models of atoms and molecules.
        = Makes models that show what substances are made of.
    SCI.MS.PS1.2 | 6-8 | I can use data to tell whether a chemical reaction has happened.
        = Looks for signs like color change or gas to spot a reaction.
    SCI.MS.PS3.3 | 6-8 | I can design a device that reduces or increases heat transfer.
        = Designs and tests something that keeps a drink hot or cold.
    SCI.HS.PS1.7 | 11 | I can use math to show that mass is conserved in a chemical reaction.
        = Balances chemical equations and explains why mass stays the same.
SCI.LS | Life Science
    SCI.4.LS1.1 | 4 | I can explain how plant and animal structures help them survive.
        = Explains how parts like thorns or shells help living things.
    SCI.MS.LS1.1 | 6-8 | I can give evidence that living things are made of cells.
        = Uses microscope observations to show living things are made of cells.
    SCI.MS.LS2.3 | 6-8 | I can model how matter and energy move through an ecosystem.
        = Draws food webs that show how energy moves.
    SCI.HS.LS1.1 | 10 | I can explain how DNA determines the structure of proteins.
        = Explains how genes carry instructions for building the body.
    SCI.HS.LS4.4 | 10 | I can explain how natural selection leads to adaptation.
        = Explains how living things change over many generations.
SCI.ESS | Earth and Space Science
    SCI.5.ESS1.2 | 5 | I can show patterns of shadows, day and night, and the seasons.
        = Uses graphs to show how shadows and daylight change over the year.
    SCI.MS.ESS3.5 | 6-8 | I can ask questions about evidence for rising global temperatures.
        = Asks and investigates good questions about climate data.
SCI.ETS | Engineering Design
    SCI.MS.ETS1.2 | 6-8 | I can judge competing designs against criteria and constraints.
        = Compares designs fairly using a checklist of what the design must do.
    SCI.HS.ETS1.2 | 9-12 | I can break a complex real-world problem into smaller ones.
        = Splits a big problem into smaller parts to tackle one by one.
# Learner-Driven Skills | Cross-cutting skills
SKILL.SD | Self-Direction
    SKILL.SD.1 | 3-5 | I can set a goal for my learning and say why it matters to me.
        = Chooses a learning goal and explains why it is important to them.
    SKILL.SD.2 | 3-12 | I can choose strategies that help me reach my goal.
        = Picks ways to practice that work for them.
    SKILL.SD.3 | 6-12 | I can plan the steps and time I need to reach a goal.
        = Breaks a goal into steps and plans when to do them.
    SKILL.SD.4 | 6-12 | I can monitor my progress with evidence and adjust my plan.
        = Checks how they are doing and changes the plan when needed.
    SKILL.SD.5 | 3-12 | I can ask for help when I am stuck and say what I need.
        = Asks for help and explains what kind of help they need.
    SKILL.SD.6 | 9-12 | I can connect my learning goals to my future plans.
        = Links schoolwork to the careers and plans they care about.
SKILL.CO | Collaboration
    SKILL.CO.1 | 3-12 | I can listen to others' ideas and build on them.
        = Listens to teammates and adds to their ideas.
    SKILL.CO.2 | 3-12 | I can share the work fairly and do my part on a team.
        = Does their share of group work.
    SKILL.CO.3 | 6-12 | I can give and receive feedback that is kind, specific and helpful.
        = Gives classmates helpful comments and uses comments they get.
    SKILL.CO.4 | 6-12 | I can help my team work through disagreements.
        = Helps the group settle disagreements respectfully.
SKILL.RE | Reflection
    SKILL.RE.1 | 3-12 | I can describe what I learned and how I learned it.
        = Talks about what they learned and what helped.
    SKILL.RE.2 | 6-12 | I can look at a setback and name what I will try next.
        = Treats mistakes as a step and plans what to try next.
"""


def parse(text: str = TARGETS) -> list[tuple[str, str, list]]:
    """[(title, subject, [(code, statement, [(code, low, high, statement, family)])])]."""
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
            targets[-1] = (*targets[-1][:4], parts[0])
        elif raw.startswith("    "):  # a target
            low, _, high = parts[1].partition("-")
            targets.append((parts[0], int(low), int(high or low), parts[2], None))
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
            for position, (code, low, high, statement, family) in enumerate(targets, 1):
                demo.session.add(
                    Target(
                        framework=framework,
                        parent=group,
                        kind=TargetKind.TARGET,
                        code=code,
                        statement=statement,
                        family_statement=family,
                        grade_low=low,
                        grade_high=high,
                        position=position,
                    )
                )
    demo.session.flush()
    for school in demo.schools:
        scale_for_school(school.id)
