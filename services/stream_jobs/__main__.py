"""python -m services.stream_jobs: the faust worker of the stream jobs, in one process."""

from services.stream_jobs.bootstrap import run
from services.stream_jobs.settings import Settings

if __name__ == "__main__":
    run(Settings())
