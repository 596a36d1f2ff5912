"""The blameless-language check for postmortems (pure): finds the sentences that put the
cause of an incident on a person, and suggests a wording about the system instead.

A sentence is flagged when it

- names human (operator, user, engineer) error as a cause;
- uses a word of blame (fault, to blame, negligent, careless, sloppy, reckless,
  incompetent, lazy, "should have known better");
- says a person forgot something;
- has a person as the subject of a verb of omission or hindsight: "failed to",
  "neglected to", "did not bother to", "did not follow", "ignored", "missed",
  "overlooked", "should have", "should not have", "did not check", "was not careful";
- calls something a person's mistake ("Dana's mistake", "a mistake by the engineer").

A person is a personal pronoun (I, we, you, he, she), a role ("the engineer", "the
on-call engineer", "the DBA", "someone", "the team"), an @handle, or a name: one or two
capitalised words that are not a system's name the text uses elsewhere in lower case
and not a known technical word. Systems as subjects are never flagged: "the job failed
to start", "the alert should have fired"; nor are neutral actions of people: "the
on-call engineer acknowledged the page".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRONOUNS = {"i", "we", "you", "he", "she"}
ROLES = (
    "engineer", "engineers", "developer", "developers", "dev", "devs", "operator",
    "operators", "admin", "admins", "administrator", "sysadmin", "dba", "sre", "sres",
    "on-call", "oncall", "on-call engineer", "intern", "contractor", "reviewer",
    "reviewers", "author", "owner", "team", "teammate", "colleague", "manager", "lead",
    "person", "someone", "somebody", "user", "staff", "employee", "responder",
    "release manager", "release captain", "commander", "incident commander", "analyst",
    "tester", "qa", "support agent", "technician", "new hire",
)
# Capitalised words that are things, not people (at the start of a subject they are
# not a name).
NOT_NAMES = {
    "the", "a", "an", "this", "that", "these", "those", "our", "their", "its", "his", "her",
    "my", "your", "nobody", "no", "one", "it", "they", "there", "after", "before", "when",
    "while", "because", "during", "then", "however", "also", "both", "each", "every",
    "some", "all", "kubernetes", "postgres", "postgresql", "redis", "kafka", "nginx",
    "terraform", "ansible", "jenkins", "github", "gitlab", "aws", "gcp", "azure", "dns",
    "bgp", "cdn", "api", "ci", "cd", "s3", "ec2", "rds", "vault", "consul", "helm",
    "prometheus", "alertmanager", "grafana", "pagerduty", "linux", "docker", "java",
    "python", "node", "mysql", "elasticsearch", "cassandra", "zookeeper", "etcd",
    "cloudflare", "the service", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december", "utc", "tls", "ssl", "http",
    "https", "sql", "ssh", "vpn", "load", "traffic", "memory", "disk", "cpu",
    # things a sentence may start with
    "deploy", "deploys", "deployment", "deployments", "build", "builds", "job", "jobs",
    "pipeline", "pipelines", "cron", "script", "scripts", "migration", "migrations",
    "release", "releases", "rollout", "rollouts", "service", "services", "server",
    "servers", "database", "databases", "cluster", "clusters", "nodes", "pod",
    "pods", "alert", "alerts", "alerting", "monitor", "monitors", "monitoring", "check",
    "checks", "test", "tests", "backup", "backups", "replica", "replicas", "primary",
    "queue", "queues", "worker", "workers", "proxy", "cache", "caches", "config",
    "configuration", "certificate", "certificates", "cert", "network", "switch", "router",
    "firewall", "system", "systems", "process", "processes", "update", "updates", "patch",
    "change", "changes", "rollback", "failover", "health", "probe", "probes", "scheduler",
    "controller", "agent", "agents", "daemon", "endpoint", "gateway", "app", "apps",
    "application", "frontend", "backend", "client", "clients", "library", "dependency",
    "upgrade", "automation", "tool", "tools", "tooling", "runbook", "runbooks", "paging",
    "page", "pages", "ticket", "review", "approval", "canary", "autoscaler",
    "balancer", "storage", "volume", "index", "query", "queries", "request", "requests",
    "retry", "retries", "timeout", "timeouts", "limit", "limits", "quota", "dashboard",
    "validation", "linter", "compiler", "installer", "provisioning", "failure", "outage",
    "incident", "incidents", "error", "errors", "code", "feature", "flag", "flags",
    "schema", "table", "tables", "partition", "shard", "shards", "region", "zone",
    "datacenter", "host", "hosts", "container", "containers", "image", "images",
    "registry", "mirror", "upstream", "downstream", "vendor", "provider", "payments",
    "checkout", "search", "billing", "login", "auth", "authentication", "orders",
}

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9@])|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)")
_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_MARKUP = re.compile(r"^\s*(?:[-*+]|\d+\.|#+|>)\s*")

# (pattern, reason, suggestion): flagged wherever they appear.
_ALWAYS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"\b(?:human|operator|user|engineer|manual|pilot)\s+error\b"
                r"(?!\s+(?:is|was|are)\s+(?:never|not|rarely)\b)", re.I),
     "names human error as the cause",
     "Describe what in the system let the action have this effect: a missing guard, a "
     "confusing tool, an unclear runbook, no review or no safe default."),
    (re.compile(r"\b(?:negligent|negligence|careless(?:ly|ness)?|sloppy|sloppiness|"
                r"reckless(?:ly|ness)?|incompetent|incompetence|lazy|laziness|"
                r"inattentive|irresponsible)\b", re.I),
     "judges a person's care or competence",
     "Describe the conditions people worked in (time pressure, missing information, "
     "tooling) instead of judging them."),
    (re.compile(r"\b(?:at\s+fault|(?:his|her|their|my|our|your|\w+'s)\s+fault|"
                r"fault\s+(?:of|lies\s+with)|to\s+blame|(?<!git\s)\bblamed?\b|blaming)", re.I),
     "assigns fault or blame",
     "Name the contributing factors in the system rather than who is at fault."),
    (re.compile(r"\bshould(?:'ve|\s+have)\s+known\s+better\b|\bshould\s+know\s+better\b",
                re.I),
     "judges a person with hindsight",
     "Describe what the person knew at the time and what would have made the risk "
     "visible."),
]

_VERBS = (
    r"failed\s+to|fails\s+to|neglected\s+to|neglects\s+to|"
    r"did(?:\s+not|n't)\s+(?:bother|follow|check|verify|test|read|notice|look|think|"
    r"review|wait|ask|escalate|communicate|realise|realize|update)|"
    r"never\s+(?:checked|tested|verified|followed|read|noticed|reviewed)|"
    r"ignored|overlooked|missed|skipped|blundered|botched|fumbled|"
    r"forgot|forgets|(?:had|has)\s+forgotten|"
    r"(?:was|were)\s+(?:solely\s+|directly\s+)?responsible\s+for\s+(?:the\s+|this\s+)?"
    r"(?:outage|incident|failure|downtime|breakage|mistake|error|problem)|"
    r"(?:had\s+)?been\s+more\s+(?:careful|attentive|diligent|cautious|thorough)|"
    r"(?:mistakenly|wrongly|erroneously|carelessly|accidentally)\s+\w+|"
    r"should(?:'ve|\s+have|\s+not\s+have|n't\s+have)|"
    r"was(?:\s+not|n't)\s+careful|were(?:\s+not|n't)\s+careful|"
    r"made\s+(?:a|an|the)\s+(?:\w+\s+)?(?:mistake|error|blunder)|"
    r"messed\s+up|screwed\s+up|broke\s+(?:it|the|production|prod)"
)
_PERSON_VERB = re.compile(
    r"(?P<subject>(?:\b[\w@'-]+\s+){0,4}?[\w@'-]+)\s+(?:had\s+|has\s+|then\s+|also\s+|simply\s+|"
    r"just\s+|clearly\s+|obviously\s+)?(?P<verb>" + _VERBS + r")\b", re.I)
_MISTAKE_OF = re.compile(
    r"\b(?:(?:(?P<owner>[A-Za-z][a-z]+|@[\w-]+)'s|(?P<pronoun>his|her|their|my|our|your))"
    r"\s+(?:mistake|blunder|oversight|error\b(?!\s+(?:rate|budget|code|message|log)))"
    r"|(?:mistake|error|blunder|oversight)\s+(?:by|of)\s+"
    r"(?P<by>(?:the\s+)?[\w@-]+(?:\s+[\w-]+)?))",
    re.I)

_SUGGESTIONS = {
    "forgot": "Say which step was not done and why the process relied on memory: a "
              "checklist, an automated check or a reminder could carry it.",
    "failed": "Say what the system did and what would have caught it: \"the deploy went "
              "out without the check, which nothing required\".",
    "hindsight": "Describe what was known at the time and what would have made the right "
                 "action the easy one, instead of what someone should have done.",
    "ignored": "Say why the signal did not stand out (volume, routing, wording) rather "
               "than that a person ignored or missed it.",
    "mistake": "Describe the action, its effect and what in the system allowed it, without "
               "calling it a person's mistake.",
}


# "No one was at fault", "nobody is to blame": the sentence says there is no blame.
_DENIED = re.compile(r"\b(?:no\s+one|no-one|nobody|none\s+of\s+us)\s+(?:was|is|were|are)\s+"
                     r"(?:at\s+fault|to\s+blame)|\bnot\s+(?:about\s+)?(?:at\s+fault|to\s+blame|"
                     r"blaming)\b", re.I)


@dataclass(frozen=True)
class Finding:
    sentence: str
    reason: str
    suggestion: str

    def as_dict(self) -> dict[str, str]:
        return {"sentence": self.sentence, "reason": self.reason,
                "suggestion": self.suggestion}


def sentences(text: str) -> list[str]:
    """The text's sentences, code and Markdown markers left out."""
    text = _CODE.sub(" ", text)
    out: list[str] = []
    for piece in _SENTENCE.split(text):
        piece = _MARKUP.sub("", piece.strip())
        piece = " ".join(piece.split())
        if piece:
            out.append(piece)
    return out


def _lower_words(text: str) -> set[str]:
    """Words the text uses in lower case (so a capitalised one there names a system)."""
    return {w for w in re.findall(r"\b[a-z][\w-]*\b", _CODE.sub(" ", text))}


CONNECTIVES = {"and", "or", "then", "but", "so", "because", "when", "while", "after",
               "before", "that", "which", "since", "as", "if", "until", "once", "where"}
# Words after a person that still name them: "the engineer responsible", "the SRE on duty".
_AFTER_PERSON = re.compile(r"\s+(?:responsible|on\s+duty|on\s+call|in\s+charge|"
                           r"who\s+.*)$", re.I)


def is_person(subject: str, lower_words: set[str] | None = None, *,
              they: bool = False) -> bool:
    """Whether the words before a verb name a person (see the module); ``they`` counts
    as one when asked (a verb only people do follows it)."""
    subject = _AFTER_PERSON.sub("", subject.replace("’", "'"))
    words = subject.split()
    if not words:
        return False
    lowered = [w.lower().strip(",;:") for w in words]
    last = lowered[-1]
    if last in PRONOUNS or last.startswith("@") or (they and last == "they"):
        return True
    tail2 = " ".join(lowered[-2:])
    tail3 = " ".join(lowered[-3:])
    for role in ROLES:
        if last == role or tail2 == role or tail3 == role or tail2.endswith(" " + role):
            return True
    # A name: the last one or two words capitalised, not a system's name.
    names = [w.strip(",;:") for w in words[-2:]]
    candidate = names[-1]
    if not re.fullmatch(r"[A-Z][a-z]+(?:'s)?", candidate):
        return False
    plain = candidate.lower().removesuffix("'s")
    if plain in NOT_NAMES or (lower_words is not None and plain in lower_words):
        return False
    # "The Engineer" style capitals after an article are roles, handled above; a
    # capitalised word after a lower-case word ("the Payments") is a system.
    if len(words) >= 2 and words[-2][:1].islower() and words[-2].lower() not in CONNECTIVES:
        return False
    return True


def _verb_kind(verb: str) -> str:
    verb = verb.lower()
    if verb.startswith(("should", "had been", "been")):
        return "hindsight"
    if verb.startswith(("forgot", "forgets", "had forgotten", "has forgotten")):
        return "forgot"
    if verb.startswith(("ignored", "overlooked", "missed", "skipped")):
        return "ignored"
    if verb.startswith(("made", "messed", "screwed", "broke", "blundered", "botched",
                        "fumbled", "was", "were", "mistakenly", "wrongly", "erroneously",
                        "carelessly", "accidentally")):
        return "mistake"
    return "failed"


_REASONS = {
    "forgot": "says a person forgot",
    "failed": "puts an omission on a person",
    "hindsight": "judges a person with hindsight (\"should have\")",
    "ignored": "says a person ignored or missed something",
    "mistake": "calls something a person's mistake",
}


def check_sentence(sentence: str, lower_words: set[str] | None = None) -> Finding | None:
    """The first reason to flag one sentence, or None."""
    for pattern, reason, suggestion in _ALWAYS:
        if pattern.search(sentence) and not _DENIED.search(sentence):
            return Finding(sentence, reason, suggestion)
    for match in _PERSON_VERB.finditer(sentence):
        verb = match.group("verb").lower()
        if is_person(match.group("subject"), lower_words,
                     they=not verb.startswith(("failed", "fails"))):
            kind = _verb_kind(match.group("verb"))
            return Finding(sentence, _REASONS[kind], _SUGGESTIONS[kind])
    for match in _MISTAKE_OF.finditer(sentence):
        owner = match.group("owner") or match.group("by") or ""
        if match.group("pronoun") or is_person(owner, lower_words):
            return Finding(sentence, _REASONS["mistake"], _SUGGESTIONS["mistake"])
    return None


def check(text: str) -> list[Finding]:
    """Every flagged sentence of a text (Markdown), in order."""
    lower_words = _lower_words(text)
    found = (check_sentence(s, lower_words) for s in sentences(text))
    return [f for f in found if f is not None]
