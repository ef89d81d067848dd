"""Security headers on every response, and the language cookie chosen with ?lang=."""

from flask import Flask, Response, g, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # A page that allows framing by its own site (the issue preview) says so in its CSP;
        # X-Frame-Options must then agree, or browsers that read it would still block the frame.
        own_site_only = "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        response.headers["X-Frame-Options"] = "SAMEORIGIN" if own_site_only else "DENY"
        # Token links must not leak to other sites through Referer; the same rule for every page
        # keeps it simple and costs nothing.
        response.headers["Referrer-Policy"] = "no-referrer"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        lang = g.pop("set_lang_cookie", None)
        if lang:
            response.set_cookie(
                "lang",
                lang,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
            )
        if request.path.startswith("/admin") or request.endpoint in ("auth.login",):
            response.headers["Cache-Control"] = "no-store"
        return response
