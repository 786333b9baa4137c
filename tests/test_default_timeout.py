"""An endpoint's default timeout is the smaller of 10 s and its interval, as Prometheus does for
scrape_timeout; only an explicit timeout above the interval is an error."""

import pytest

from probe.config import ConfigError, load

CONFIG = """
[probe]
database = "{db}"

{defaults}

[[endpoint]]
name = "api"
url = "https://api.example.com/health"
{endpoint}
"""


def load_with(tmp_path, endpoint="", defaults=""):
    path = tmp_path / "probe.toml"
    path.write_text(CONFIG.format(db=tmp_path / "probe.db", defaults=defaults, endpoint=endpoint))
    return load(str(path))


@pytest.mark.parametrize("interval, timeout", [('"5s"', 5.0), ('"10s"', 10.0), ('"1m"', 10.0), ('"1s"', 1.0)])
def test_the_default_timeout_is_at_most_the_interval(tmp_path, interval, timeout):
    (api,) = load_with(tmp_path, f"interval = {interval}").endpoints
    assert api.spec.timeout == timeout


def test_an_explicit_timeout_above_the_interval_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="timeout: 10s is longer than the interval 5s"):
        load_with(tmp_path, 'interval = "5s"\ntimeout = "10s"')
    with pytest.raises(ConfigError, match="timeout: 8s is longer than the interval 5s"):
        load_with(tmp_path, 'interval = "5s"', defaults='[defaults]\ntimeout = "8s"')
