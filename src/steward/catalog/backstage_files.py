"""Which files of a catalog tree hold Backstage entities, read and split into YAML documents.

A repository holds more YAML than catalog files: CI workflows, OpenAPI definitions, Helm charts,
and the skeletons of scaffolder Templates, which are templates of files (``${{ values.name }}``)
rather than entities. Backstage reads none of them as entities, so neither does Steward: they are
listed as :class:`SkippedEntry` rather than reported as errors. A file named explicitly (rather
than found in a folder) is always read as a catalog file. Pure code: files and PyYAML only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from steward.catalog.backstage_refs import (
    DEFAULT_NAMESPACE,
    SKIP_NOT_CATALOG,
    SKIP_SKELETON,
    EntityError,
    SkippedEntry,
)

# libyaml's safe loader when PyYAML was built with it: same safety, far faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_SUFFIXES = (".yaml", ".yml")
# Never walked: version control internals and installed packages are no part of a catalog.
IGNORED_FOLDERS = frozenset({".git", "node_modules"})
# A scaffolder expression (``${{ values.name }}``), a Nunjucks block (``{% if %}``) or a
# cookiecutter variable: text that becomes YAML only once a template is rendered.
TEMPLATE_EXPRESSION = re.compile(r"\$\{\{|\{%-?\s|\{\{\s*cookiecutter\.")
# Nunjucks, Helm or Jinja syntax in a file that is not valid YAML: a template, not a catalog file.
TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%")
# Scaffolder actions whose ``input.url`` names a skeleton folder (or file) to render or copy.
SKELETON_ACTIONS = frozenset({"fetch:template", "fetch:plain", "fetch:template:file",
                              "fetch:plain:file", "fetch:cookiecutter", "fetch:rails"})


@dataclass
class CatalogFile:
    path: Path
    resolved: Path
    label: str  # how reports name the file
    named: bool  # given by name, not found in a folder
    text: str = ""
    documents: list[Any] = field(default_factory=list)  # parsed, in order; None for empty ones
    yaml_error: EntityError | None = None  # the documents after it are lost

    def has_entity_shape(self) -> bool:
        return any(isinstance(d, dict) and ("apiVersion" in d or "kind" in d)
                   for d in self.documents)


def find_files(paths: Sequence[str | Path], errors: list[EntityError],
               relative_to: Path | None = None) -> list[CatalogFile]:
    """The YAML files of ``paths``: files as given, folders walked (sorted, each file once)."""
    found: list[CatalogFile] = []
    seen: set[Path] = set()

    def add(path: Path, named: bool) -> None:
        resolved = path.resolve()
        if resolved in seen:
            return
        seen.add(resolved)
        label = str(path)
        if relative_to is not None and resolved.is_relative_to(relative_to.resolve()):
            label = resolved.relative_to(relative_to.resolve()).as_posix()
        found.append(CatalogFile(path, resolved, label, named))

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path):
                add(file, named=False)
        elif path.is_file():
            add(path, named=True)
        else:
            errors.append(EntityError(str(path), 0, None, "", "no such file or folder"))
    return found


def _walk(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in IGNORED_FOLDERS]
        files += [Path(root, n) for n in names if n.lower().endswith(YAML_SUFFIXES)]
    return sorted((f for f in files if f.is_file()),
                  key=lambda f: f.relative_to(folder).as_posix())


def read_file(file: CatalogFile, errors: list[EntityError]) -> bool:
    """Read and split ``file`` into documents; False (with an error) when it cannot be read."""
    try:
        file.text = file.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(EntityError(file.label, 0, None, "", f"cannot read the file: {exc}"))
        return False
    try:
        file.documents.extend(yaml.load_all(file.text, Loader=SAFE_LOADER))
    except yaml.YAMLError as exc:  # PyYAML cannot go on: the file's later documents are lost
        file.yaml_error = EntityError(file.label, len(file.documents) + 1, None, "",
                                      _yaml_reason(exc))
    return True


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    return f"invalid YAML{where}: {problem}" + (f" ({context})" if context else "")


def skeleton_paths(files: Sequence[CatalogFile]) -> list[tuple[Path, str]]:
    """``(folder or file, template ref)`` for each local skeleton a Template in ``files`` fetches.

    A skeleton that would hold the Template itself (``url: ./``) is not one: the Template's own
    folder is then a catalog like any other, and its skeleton files are told by their
    expressions.
    """
    found: list[tuple[Path, str]] = []
    for file in files:
        for doc in file.documents:
            if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) \
                    or doc["kind"].strip().lower() != "template":
                continue
            spec = doc.get("spec")
            steps = spec.get("steps") if isinstance(spec, dict) else None
            for step in steps if isinstance(steps, list) else []:
                url = _skeleton_url(step)
                if url is None:
                    continue
                target = (file.resolved.parent / url).resolve()
                if not file.resolved.is_relative_to(target):
                    found.append((target, _template_ref(doc)))
    return found


def _skeleton_url(step: Any) -> str | None:
    if not isinstance(step, dict) or step.get("action") not in SKELETON_ACTIONS:
        return None
    given = step.get("input")
    url = given.get("url") if isinstance(given, dict) else None
    if not isinstance(url, str) or not url.strip() or "://" in url or "${{" in url:
        return None  # a remote skeleton, or one chosen by a parameter: nothing here to skip
    return url.strip()


def _template_ref(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    name, namespace = meta.get("name"), meta.get("namespace") or DEFAULT_NAMESPACE
    return f"template:{namespace}/{name}".lower() if isinstance(name, str) else "a template"


def whole_file_skip(file: CatalogFile, skeletons: Sequence[tuple[Path, str]]
                    ) -> SkippedEntry | None:
    """Why ``file`` as a whole is no catalog file, or None when its documents are to be read."""
    for target, template in skeletons:
        if file.resolved.is_relative_to(target):
            return SkippedEntry(file.label, 0, None, SKIP_SKELETON,
                                detail=f"in the skeleton of {template}")
    if file.yaml_error is not None and TEMPLATE_SYNTAX.search(file.text):
        return SkippedEntry(file.label, 0, None, SKIP_SKELETON,
                            detail="template syntax, not YAML until rendered")
    if file.named or (file.yaml_error is None and all(d is None for d in file.documents)):
        return None
    if file.yaml_error is None and not file.has_entity_shape():
        return SkippedEntry(file.label, 0, None, SKIP_NOT_CATALOG,
                            detail="no document has an apiVersion or a kind")
    if file.yaml_error is not None and not file.has_entity_shape() \
            and not _names_catalog(file):
        return SkippedEntry(file.label, 0, None, SKIP_NOT_CATALOG,
                            detail="not valid YAML and nothing in it names a Backstage entity")
    return None


def _names_catalog(file: CatalogFile) -> bool:
    """A file that says it is a catalog file, whose malformed YAML is then an error."""
    return file.path.name.lower().startswith("catalog-info") or "backstage.io/" in file.text


def has_template_expression(doc: Any) -> bool:
    """Whether any text in the document (keys or values) holds a template expression."""
    if isinstance(doc, str):
        return TEMPLATE_EXPRESSION.search(doc) is not None
    if isinstance(doc, dict):
        return any(has_template_expression(k) or has_template_expression(v)
                   for k, v in doc.items())
    if isinstance(doc, list):
        return any(has_template_expression(v) for v in doc)
    return False
