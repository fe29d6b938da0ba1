"""`flask --app portal sso ...`: connect a district's identity provider from the command line.

    flask --app portal sso add NAME --kind google|clever|classlink|oidc --issuer URL \\
        --client-id ID --client-secret SECRET|- --district-id N [--domain D ...] \\
        [--clever-district ID] [--match-claim C --match-field identifier|username|email \\
        --identifier-type T]
    flask --app portal sso list
    flask --app portal sso remove NAME

`--client-secret -` reads the secret from standard input, so it need not sit in the
shell's history. The secret is stored encrypted and never printed.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.core.extensions import db
from portal.sso import services
from portal.sso.models import MatchField, SsoKind

sso_cli = AppGroup("sso", help="Connect identity providers (Google, Clever, ClassLink, OIDC).")


@sso_cli.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in SsoKind]), required=True)
@click.option("--issuer", default=None, help="Default: the provider's own (google, clever...).")
@click.option("--client-id", required=True)
@click.option("--client-secret", required=True, help="'-' reads it from standard input.")
@click.option("--district-id", type=int, required=True)
@click.option("--domain", "domains", multiple=True, help="Google: a Workspace domain (repeat).")
@click.option("--clever-district", default=None, help="Clever: the Clever district id.")
@click.option("--match-claim", default=None)
@click.option("--match-field", type=click.Choice([m.value for m in MatchField]), default=None)
@click.option("--identifier-type", default=None, help="userIds type, e.g. Clever.")
def add(
    name,
    kind,
    issuer,
    client_id,
    client_secret,
    district_id,
    domains,
    clever_district,
    match_claim,
    match_field,
    identifier_type,
):
    """Connect a provider for a district."""
    if client_secret == "-":  # noqa: S105 (the stdin marker, not a secret)
        client_secret = sys.stdin.readline().rstrip("\r\n")
    try:
        provider = services.add_provider(
            services.ProviderInput(
                name=name,
                kind=SsoKind(kind),
                district_id=district_id,
                client_id=client_id,
                client_secret=client_secret,
                issuer=issuer,
                match_claim=match_claim,
                match_field=MatchField(match_field) if match_field else None,
                identifier_type=identifier_type,
                google_domains=" ".join(domains),
                clever_district_id=clever_district,
            )
        )
    except services.Invalid as invalid:
        db.session.rollback()
        raise click.UsageError(f"{invalid.field}: {invalid.message}") from None
    db.session.commit()
    click.echo(f"Connected {provider.name} ({provider.slug}) for district {district_id}.")
    click.echo(f"Register this redirect URI: {services.redirect_uri(provider)}")
    click.echo(f"Provider-initiated login URL: {services.initiate_uri(provider)}")


@sso_cli.command("list")
def list_providers():
    """List every provider (the secrets are never shown)."""
    providers = services.all_providers()
    if not providers:
        click.echo("No providers.")
    for p in providers:
        state = "on" if p.enabled else "off"
        click.echo(
            f"{p.slug}\t{p.kind.value}\tdistrict {p.district_id}\t{state}\t{p.issuer}\t"
            f"client {p.client_id}\tsecret set\t{services.redirect_uri(p)}"
        )


@sso_cli.command("remove")
@click.argument("name")
def remove(name):
    """Remove a provider by its name (or slug)."""
    provider = services.provider_by_slug(name) or services.provider_by_slug(services.slugify(name))
    if provider is None:
        raise click.UsageError(f"No provider named {name!r} (see `sso list`).")
    services.remove_provider(provider)
    db.session.commit()
    click.echo(f"Removed {provider.slug}.")
