"""python -m services.console: the ops console's web pages (port 8080)."""

from services.console.bootstrap import serve
from services.console.settings import Settings

if __name__ == "__main__":
    serve(Settings())
