import os

import pytest

from servers import Certificates, ServerThread

# Processes the tests start (`python -m probe ...`, and the daemon's workers) must import the
# installed probe, as a user's would, not the source folder that happens to be the current
# directory: Python 3.11's PYTHONSAFEPATH keeps the current directory off sys.path.
os.environ["PYTHONSAFEPATH"] = "1"


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def servers():
    thread = ServerThread()
    yield thread
    thread.close()
