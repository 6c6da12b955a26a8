"""What the benchmark scripts share: a signed EC2 Query POST and a wrk run."""
import os
import re
import subprocess
import tempfile
import urllib.request

# Signatures are not checked by the emulators; the scope names the service.
AUTH = "AWS4-HMAC-SHA256 Credential=test/20261129/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0"


def post(endpoint, body):
    """One EC2 Query request; the reply's text."""
    req = urllib.request.Request(endpoint + "/", data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": AUTH})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.read().decode()


def query_lua(body):
    """A wrk script that POSTs this Query body, signed for ec2."""
    return (f'wrk.method = "POST"\nwrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"\n'
            f'wrk.headers["Authorization"] = "{AUTH}"\n')


def wrk(url, lua, duration):
    """wrk -t2 -c4 with keep-alive: (requests/s, p99 ms). Any non-2xx reply is an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    try:
        out = subprocess.run(["wrk", "-t2", "-c4", f"-d{duration}", "--latency", "-s", script, url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    return rps, float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
