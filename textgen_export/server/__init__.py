"""The generation server for other apps: an OpenAI-style completions API over one bundle, beside the page.

request.py checks a request (limits.py: the caps; errors.py: OpenAI's error shape), engine.py runs every
request's rows through one continuous-batching loop over the shared Generator, choice.py turns a row's tokens into
an OpenAI choice, shapes.py writes the responses, app.py is the Starlette app (the API and the page's files) and
run.py serves it with uvicorn.  Needs the `[serve]` extra (starlette, uvicorn).
"""
