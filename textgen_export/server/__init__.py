"""The generation server for other apps: an OpenAI-style completions API over one bundle, beside the page.

request.py checks a request, engine.py runs every request's rows through one continuous-batching loop over the
shared Generator, choice.py turns a row's tokens into an OpenAI choice, app.py is the Starlette app (API and the
page's files), run.py serves it with uvicorn.  Needs the `[serve]` extra (starlette, uvicorn).
"""
