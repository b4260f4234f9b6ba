# Test cases for rules.yaml (`semgrep --test`): never imported or run.
# ruff: noqa
import http.client
import os
import pickle
import random
import secrets
import ssl
import subprocess
import urllib.request

import requests
import yaml
from django.views.decorators.csrf import csrf_exempt

# ruleid: bastion-outbound-http-outside-guard
urllib.request.urlopen("https://example.org/")
# ruleid: bastion-outbound-http-outside-guard
requests.get(url)
# ruleid: bastion-outbound-http-outside-guard
http.client.HTTPSConnection("example.org")
# ok: bastion-outbound-http-outside-guard
guarded_session(organisation).get(url)

# ruleid: bastion-random-for-secrets
token = random.choice(alphabet)
# ok: bastion-random-for-secrets
token = secrets.choice(alphabet)


# ruleid: bastion-csrf-exempt
@csrf_exempt
def form_view(request):
    return None


# ok: bastion-csrf-exempt
def protected_view(request):
    return None


# ruleid: bastion-dynamic-code
eval(expression)
# ok: bastion-dynamic-code
json.loads(expression)

# ruleid: bastion-unsafe-deserialisation
pickle.loads(data)
# ruleid: bastion-unsafe-deserialisation
yaml.load(text)
# ok: bastion-unsafe-deserialisation
yaml.load(text, Loader=yaml.SafeLoader)
# ok: bastion-unsafe-deserialisation
yaml.safe_load(text)

# ruleid: bastion-tls-verification-off
client.check_hostname = False
# ruleid: bastion-tls-verification-off
session.get(url, verify=False)
# ok: bastion-tls-verification-off
client.check_hostname = True

# ruleid: bastion-shell-command
subprocess.run(command, shell=True)
# ruleid: bastion-shell-command
os.system(command)
# ok: bastion-shell-command
subprocess.run(["pg_dump", name], check=True)

# ruleid: bastion-debug-on
DEBUG = True
# ok: bastion-debug-on
DEBUG = os.environ.get("BASTION_DEBUG") == "1"
