"""What the boto3 clients in tests/clients share: checks that print one line
each and a summary, and the error code and HTTP status of a failed call."""
from botocore.exceptions import ClientError

checks = []


def check(name, ok, detail=""):
    checks.append((name, bool(ok)))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{(': ' + str(detail)) if detail and not ok else ''}")


def error_code(call, **kwargs):
    """(code, HTTP status) of a call expected to fail; (None, 200) if it did not."""
    try:
        call(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def summary():
    """Prints `N passed, M failed`; the exit status (0 when nothing failed)."""
    failed = sum(1 for _, ok in checks if not ok)
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1
