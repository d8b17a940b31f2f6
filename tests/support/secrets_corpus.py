"""Two corpora for the masker: credentials in the shapes real clusters leak them, and look-alikes that are not.

Credentials are assembled at import from a seeded generator, so no credential-shaped literal sits in the
repository (secret scanners would flag it) and every planted value is unique: a search for it finds only it.
Each `Planted` is a line as a log, an event or a description would carry it, and the `secret` it holds.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Planted:
    name: str
    text: str
    secret: str


_rng = random.Random(20261127)
_ALNUM = string.ascii_letters + string.digits


def _run(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _password() -> str:
    """A password with no recognisable shape: only its position gives it away."""
    return _run(6, string.ascii_lowercase) + _run(4, string.digits) + _run(3, string.ascii_uppercase)


def _b64(n: int) -> str:
    return _run(n, _ALNUM + "+/")


def _pem(kind: str, escaped: bool = False) -> tuple[str, str]:
    body = "\n".join(_b64(64) for _ in range(4))
    block = f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"
    if escaped:
        block = block.replace("\n", "\\n")
        body = body.replace("\n", "\\n")
    return block, body


def _jwt() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("=")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": _run(12), "iat": 1767225600}).encode()).decode()
    return f"{header}.{payload.rstrip('=')}.{_run(43, _ALNUM + '-_')}"


def _aws_secret() -> str:
    while True:
        key = _run(40, _ALNUM + "/+")
        if any(c.isupper() for c in key) and any(c.islower() for c in key) and any(c.isdigit() for c in key):
            if not key.startswith("/") and key.count("/") + key.count("+") <= 4:
                return key


def _build() -> list[Planted]:
    out: list[Planted] = []

    def add(name: str, template: str, secret: str) -> None:
        out.append(Planted(name, template.format(s=secret), secret))

    # --- connection strings of the common databases and brokers ---
    add("postgres url", "connecting to postgres://app:{s}@db:5432/shop", _password())
    add("postgresql url", "dsn=postgresql://orders:{s}@db.internal:5432/orders?sslmode=require", _password())
    add("mysql password with @", "mysql://root:{s}@mysql:3306/app", _password()[:5] + "@" + _password())
    add("mysql+driver url", "SQLALCHEMY_DATABASE_URI=mysql+pymysql://svc:{s}@mariadb/app", _password())
    add("mongodb url", "mongodb://admin:{s}@mongo-0.mongo:27017/?authSource=admin", _password())
    add("mongodb+srv url", "MONGO_URL=mongodb+srv://svc:{s}@cluster0.abcde.mongodb.net/app", _password())
    add("redis url, empty user", "redis://:{s}@redis:6379/0", _password())
    add("rediss url", "cache: rediss://default:{s}@cache.example.com:6380", _password())
    add("amqp url", "amqp://guest:{s}@rabbitmq:5672/orders", _password())
    add("amqps url", "broker=amqps://svc:{s}@mq.example.com:5671", _password())
    add("nats url", "nats://svc:{s}@nats:4222", _password())
    add(
        "kafka sasl jaas",
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" '
        'password="{s}";',
        _password(),
    )
    add("ado.net string", "Server=tcp:db,1433;Database=app;User Id=sa;Password={s};Encrypt=true", _password())
    add("jdbc query", "jdbc:postgresql://db:5432/app?user=app&password={s}&ssl=true", _password())
    add("elasticsearch url", "es: https://elastic:{s}@es-master:9200", _password())
    add("smtp url", "mailer smtp://mailer:{s}@smtp.example.com:587", _password())
    # --- JWTs and PEM private keys ---
    add("bare jwt", "session restored from {s}", _jwt())
    add("bearer jwt header", "Authorization: Bearer {s}", _jwt())
    for kind in ("RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"):
        block, body = _pem(kind)
        out.append(Planted(f"pem {kind.lower()}", f"tls key:\n{block}", body))
    # --- cloud provider keys and service-account JSON ---
    add("aws access key id", "AWS_ACCESS_KEY_ID={s}", "AKIA" + _run(16, string.ascii_uppercase + string.digits))
    add("aws session key id", "using credentials {s} from the instance", "ASIA" + _run(16, string.ascii_uppercase))
    add("aws secret key assignment", "aws_secret_access_key = {s}", _aws_secret())
    add("bare aws secret key", "loaded key {s} from env", _aws_secret())
    add("aws session token", "AWS_SESSION_TOKEN={s}", "IQoJb3JpZ2luX2VjE" + _b64(120))
    add("gcp api key", "maps: key={s}", "AIza" + _run(35, _ALNUM + "-_"))
    add("gcp oauth token", "metadata token ya29.{s}", _run(60, _ALNUM + "-_"))
    block, body = _pem("PRIVATE KEY", escaped=True)
    sa = json.dumps({"type": "service_account", "project_id": "shop-prod", "client_email": "ci@shop-prod.iam"})
    out.append(Planted("gcp service-account json", sa[:-1] + f', "private_key": "{block}"}}', body))
    add("gcp oauth client secret", "GOOGLE_CLIENT_SECRET is {s}", "GOCSPX-" + _run(28, _ALNUM + "-_"))
    add(
        "azure storage connection string",
        "DefaultEndpointsProtocol=https;AccountName=shopprod;AccountKey={s};EndpointSuffix=core.windows.net",
        _b64(86) + "==",
    )
    add("azure sas signature", "https://shop.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig={s}&se=2026", _b64(44))
    add("azure ad client secret", "client credential {s} expires soon", _run(3) + "8Q~" + _run(34, _ALNUM + "_~.-"))
    add(
        "azure service bus",
        "Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=app;SharedAccessKey={s}",
        _b64(44),
    )
    # --- basic and bearer auth headers, cookies ---
    add("basic auth header", "Authorization: Basic {s}", base64.b64encode(f"ops:{_password()}".encode()).decode())
    add("token auth header", "Authorization: Token {s}", _run(40, string.hexdigits.lower()))
    add("proxy auth header", "Proxy-Authorization: Basic {s}", base64.b64encode(f"p:{_password()}".encode()).decode())
    add("api key header", "X-Api-Key: {s}", _run(32))
    add("auth token header", "x-auth-token: {s}", _run(32))
    add("cookie header", "Cookie: theme=dark; sessionid={s}", _run(32))
    add("set-cookie header", "Set-Cookie: session={s}; Path=/; HttpOnly; Secure", _run(40, _ALNUM + "-_"))
    # --- the common SaaS tokens ---
    add("github classic token", "git clone with {s}", "ghp_" + _run(36))
    add("github fine-grained token", "GH_TOKEN={s}", "github_pat_" + _run(22) + "_" + _run(59))
    add("gitlab token", "gitlab {s}", "glpat-" + _run(20, _ALNUM + "-_"))
    add("slack bot token", "slack {s}", f"xoxb-{_run(12, string.digits)}-{_run(13, string.digits)}-{_run(24)}")
    add(
        "slack webhook",
        "posting to {s}",
        f"https://hooks.slack.com/services/T{_run(10, string.ascii_uppercase)}/B{_run(10, string.ascii_uppercase)}/"
        + _run(24),
    )
    add("stripe live secret key", "stripe {s}", "sk_live_" + _run(99))
    add("stripe restricted key", "STRIPE_KEY={s}", "rk_live_" + _run(24))
    add("sendgrid key", "sendgrid {s}", f"SG.{_run(22, _ALNUM + '-_')}.{_run(43, _ALNUM + '-_')}")
    add("twilio api key", "twilio {s}", "SK" + _run(32, string.ascii_lowercase + string.digits))
    add("npm token", "//registry.npmjs.org/:_authToken={s}", "npm_" + _run(36))
    add("openai key", "llm {s}", "sk-proj-" + _run(48, _ALNUM + "-_"))
    add("anthropic key", "llm {s}", "sk-ant-api03-" + _run(80, _ALNUM + "-_"))
    add("vault token", "VAULT_TOKEN given as {s}", "hvs." + _run(90, _ALNUM + "-_"))
    add("mailchimp key", "mailchimp {s}", _run(32, string.hexdigits.lower()) + "-us14")
    add("telegram bot token", "bot {s}", f"{_run(10, string.digits)}:{_run(35, _ALNUM + '-_')}")
    # --- key=value, key: value and JSON forms of password, secret, token, passphrase, api key ---
    add("password=", "login retry password={s} user=bob", _password())
    add("PASSWORD:", "PASSWORD: {s}", _password())
    add("json password", '{{"user": "bob", "password": "{s}"}}', _password())
    add("SECRET_KEY=", "SECRET_KEY={s}", _run(50, _ALNUM + "!#%^*"))
    add("client_secret:", "client_secret: {s}", _run(24))
    add("json api_key", '{{"api_key": "{s}", "region": "eu"}}', _run(32))
    add("apiKey=", "apiKey={s}", _run(32))
    add("token=", "callback?token={s}&next=/", _run(32))
    add("json access_token", '{{"access_token":"{s}","expires_in":3600}}', _run(40))
    add("passphrase=", "unlocking with passphrase={s}", _password())
    add("--password value", "exec /app --user app --password {s} --port 8080", _password())
    add("--db-password=value", "args: --db-password={s}", _password())
    add("DB_PASS=", "DB_PASS={s}", _password())
    add("quoted single", "auth_token='{s}'", _run(32))
    add("escaped json", '{{\\"password\\":\\"{s}\\"}}', _password())
    # --- next to the prose that lists after "credentials:" (a look-alike below): assignments still hold one ---
    add("credentials=", "using credentials={s}", _password())
    add("credentials: with digits", "credentials: {s}", _password())
    add("quoted credentials:", 'credentials: "{s}"', _run(6, string.ascii_lowercase))
    add("DB_CREDENTIALS:", "DB_CREDENTIALS: {s}", _run(8, string.ascii_lowercase))
    return out


CREDENTIALS: list[Planted] = _build()

LOOK_ALIKES: list[str] = [
    "registry.example.com/shop/web:1.9.1",
    "ghcr.io/acme/api@sha256:" + "3f2b9c1e8d4a4e6f" * 4,
    "docker.io/library/postgres:16-alpine",
    "quay.io/prometheus/node-exporter:v1.8.2",
    "web-7d9f8b6c5-x2k4q",
    "checkout-5c9f7d8b6d-abcde",
    "deployment.kubernetes.io/revision: 3",
    "rolled back to revision 2",
    "sha256:9b2c1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f",
    "requests cpu=250m memory=512Mi, limits cpu=500m memory=1.5Gi",
    "3f2b9c1e-8d4a-4e6f-9b2c-1a2b3c4d5e6f",
    "uid=3f2b9c1e-8d4a-4e6f-9b2c-1a2b3c4d5e6f resourceVersion=184467",
    '10.244.1.23 - - "GET /api/cart HTTP/1.1" 200 652 12ms',
    'level=info msg="listening" addr=0.0.0.0:8080',
    "2026-05-01T12:00:00.123456789Z GET /api/cart 200 12ms user=bob",
    "connected to postgres://db:5432/orders",
    "Readiness probe failed: Get http://10.0.0.7:8080/healthz: connection refused",
    "http://search:8080/find?email=ops@example.com",
    'MountVolume.SetUp failed for volume "db-creds" : secret "db-creds" not found',
    "Error: couldn't find key password in Secret shop/checkout-db",
    "secretName: db-creds",
    "serviceAccountName: checkout",
    "tokenExpirationSeconds: 3600",
    "automountServiceAccountToken: false",
    "token_type=bearer expires_in=3600",
    "password_file=/run/secrets/db",
    "--token-file=/var/run/secrets/kubernetes.io/serviceaccount/token",
    "Back-off restarting failed container checkout in pod checkout-5c9f7d8b6d-abcde",
    'Successfully pulled image "registry.example.com/shop/checkout:2.4.0" in 1.2s',
    "Scaled up replica set web-7d9f8b6c5 to 4",
    "0/3 nodes are available: 3 Insufficient memory.",
    "commit 3f2b9c1e8d4a4e6f9b2c1a2b3c4d5e6f7a8b9c0d",
    "pod-template-hash=7d9f8b6c5",
    "/api/v1/namespaces/default/pods/checkout",
    "app.kubernetes.io/name=web,version=stable",
    "using basic authentication for the admin UI",
    "token bucket refilled: 5 tokens",
    "password reset email sent to user 42",
    "Authorization header missing",
    "kubectl rollout undo deployment/web --to-revision=2 -n shop --context sim",
    "helm rollback cart 2 -n shop --wait",
    "node-2 Ready 10.0.0.12 v1.32.4",
    "secrets: 3 mounted, tokens=5",
    "password: ********",
    "password=${DB_PASSWORD}",
    "irm_" + "Q" * 20 + "-" + "a" * 22,
    "helm upgrade --install cart ./chart --set image.tag=2.4.0",
    "Upgrade complete",
    "OOMKilled: container used 530Mi of 512Mi",
    "crashloop backoff 5m0s restarting failed container",
    # assess_namespace's and evaluate_decision's blind spots: prose listing after a colon, not an assignment
    "ROLLBACK: deployment checkout failing. Not readable with these credentials: services, pod metrics, HPAs, events "
    "(decided without them)",
    "Not readable with these credentials: HPAs, events; the facts above lack them.",
    "Not readable with these credentials: nodes; the facts above lack them.",
]

# Kubernetes objects this server writes or shows that hold no secret: mask_data leaves them as they are.
# isolate_network's NetworkPolicy carries kubectl's last-applied annotation (its own manifest as JSON): a plan whose
# write changed under masking would be refused, so masking that annotation whole refused every isolation.
_POLICY: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {
        "name": "irm-isolate-web-canary",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/managed-by": "incident-response-mcp"},
    },
    "spec": {
        "podSelector": {"matchLabels": {"app": "web", "track": "canary"}},
        "policyTypes": ["Ingress"],
        "ingress": [],
    },
}
_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}, "annotations": {}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "serviceAccountName": "web",
                "automountServiceAccountToken": False,
                "imagePullSecrets": [{"name": "regcred"}],
                "containers": [
                    {
                        "name": "web",
                        "image": "registry.example.com/shop/web:1.9.1",
                        "args": ["--token-file=/var/run/secrets/token", "--port", "8080"],
                        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}],
                        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}},
                    }
                ],
                "volumes": [{"name": "creds", "secret": {"secretName": "db-creds"}}],
            },
        },
    },
}


def _applied(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as client-side `kubectl apply` leaves it: its own sorted compact JSON in the last-applied annotation."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n"
    annotations = {**obj["metadata"].get("annotations", {}), "kubectl.kubernetes.io/last-applied-configuration": text}
    return {**obj, "metadata": {**obj["metadata"], "annotations": annotations}}


LOOK_ALIKE_OBJECTS: list[dict[str, Any]] = [_POLICY, _applied(_POLICY), _DEPLOYMENT, _applied(_DEPLOYMENT)]
