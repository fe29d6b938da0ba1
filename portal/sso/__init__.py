"""District sign-in through OpenID Connect providers (Google, Clever, ClassLink, any OIDC)."""

import warnings

from authlib.deprecate import AuthlibDeprecationWarning

# Authlib 1.9 warns on import that it falls back to httpx when the httpx2 fork is absent.
# httpx is the client we pin and hand it (oidc.py), so the warning would only print on
# every `flask` command. Added after authlib's own "always" filter, so it comes first.
warnings.filterwarnings(
    "ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning
)
