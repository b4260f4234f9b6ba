import pytest


@pytest.fixture
def commits_mail(django_capture_on_commit_callbacks):
    """Emails leave once the transaction commits: inside a test's transaction, run those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
