"""The README and docs/: every link lands, every `helm install` of this chart they show renders
valid objects with the values it gives, every Prometheus configuration passes promtool, and no
command they, the chart's NOTES or the binary's --help show changes Qdrant's authentication or version."""

import re
import shlex
import subprocess

import helm_python as helm
import pytest
import yaml

from conftest import CHART, NAMESPACE, RELEASE, ROOT, SCENARIOS, assert_builtin_objects_valid, assert_monitoring_objects_valid, load_values

README = ROOT / "README.md"
PAGES = [README, CHART / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def code_blocks(page, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_lands_on_a_file_and_heading_that_exist(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        landing = (page.parent / path).resolve() if path else page
        assert landing.exists(), f"{page.name}: {target}"
        if anchor and landing.suffix == ".md":
            assert anchor in anchors(landing), f"{page.name}: {target}"


def test_the_readme_is_short_and_its_first_screen_says_what_it_is_and_how_to_run_it():
    lines = README.read_text().splitlines()
    assert len(lines) <= 260, len(lines)
    first_screen = "\n".join(lines[:60])
    assert "Prometheus exporter for the [Qdrant]" in first_screen
    assert "## What it adds to Qdrant's own `/metrics`" in first_screen
    assert "## Quick start" in first_screen


def helm_commands(page) -> list[list[str]]:
    """Each `helm install|upgrade` of this chart in the page's sh blocks, as words."""
    commands = []
    for block in code_blocks(page, "sh"):
        for command in block.replace("\\\n", " ").splitlines():
            words = shlex.split(command, comments=True)
            if words[:2] in (["helm", "install"], ["helm", "upgrade"]) and "qdrant-exporter" in words[2:4]:
                commands.append(words)
    return commands


def values_files(page) -> dict[str, str]:
    """Files the page writes with `cat > NAME <<'YAML'`, or shows as a yaml block opening with
    `# NAME.yaml`, by name."""
    files = dict(re.findall(r"cat > (\S+) <<'YAML'\n(.*?)\nYAML\n", page.read_text(), flags=re.DOTALL))
    for block in code_blocks(page, "yaml"):
        named = re.match(r"# ([\w.-]+\.yaml)\b", block)
        if named:
            files[named.group(1)] = block
    return files


def set_value(values: dict, assignment: str) -> None:
    key, _, value = assignment.partition("=")
    *parents, leaf = key.split(".")
    for parent in parents:
        values = values.setdefault(parent, {})
    values[leaf] = {"true": True, "false": False}.get(value, value)


def documented_installs():
    for page in PAGES:
        files = values_files(page)
        for words in helm_commands(page):
            values: dict = {}
            for flag, argument in zip(words, words[1:]):
                if flag == "--set":
                    set_value(values, argument)
                elif flag == "-f":
                    values.update(yaml.safe_load(files[argument]))
            namespace = words[words.index("-n") + 1] if "-n" in words else "default"
            yield pytest.param(values, namespace, id=f"{page.relative_to(ROOT)}: {' '.join(words[:4])}")


INSTALLS = list(documented_installs())


def test_the_docs_show_the_sidecar_and_the_standalone_installs():
    assert len(INSTALLS) >= 2, INSTALLS


@pytest.mark.parametrize("values, namespace", INSTALLS)
def test_each_documented_install_renders_valid_objects(values, namespace, tmp_path):
    rendered = helm.Chart.load(CHART).render(values, name="qdrant-exporter", namespace=namespace)
    built = [d for p, t in sorted(rendered.items()) if p.endswith(".yaml") for d in yaml.safe_load_all(t) if d]
    assert built
    assert_builtin_objects_valid(built, tmp_path)
    assert_monitoring_objects_valid(built)


def prometheus_configs():
    for page in PAGES:
        for block in code_blocks(page, "yaml"):
            if block.startswith("scrape_configs:"):
                yield pytest.param(block, id=str(page.relative_to(ROOT)))


CONFIGS = list(prometheus_configs())


def test_the_docs_show_scrape_configs_for_sidecars_and_for_probe():
    assert any("kubernetes_sd_configs" in c.values[0] for c in CONFIGS)
    assert any("metrics_path: /probe" in c.values[0] for c in CONFIGS)


@pytest.mark.parametrize("config", CONFIGS)
def test_each_documented_prometheus_configuration_passes_promtool(config, tmp_path):
    """Debian's promtool is built without Kubernetes discovery: a `role: pod` discovery is checked
    by shape here and handed to promtool as a static target, so that the rest (relabelling
    regexes and actions included) is checked by promtool itself."""
    parsed = yaml.safe_load(config)
    for job in parsed["scrape_configs"]:
        if "kubernetes_sd_configs" in job:
            assert job.pop("kubernetes_sd_configs") == [{"role": "pod"}], job["job_name"]
            job["static_configs"] = [{"targets": ["pod:9999"]}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(parsed))
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def shell_blocks():
    """(where, the heading above it, text) of every sh block of the pages, and of the chart's
    NOTES as rendered for each CI scenario (NOTES has no headings)."""
    for page in PAGES:
        heading = ""
        for part in re.split(r"(```sh\n.*?```)", page.read_text(), flags=re.DOTALL):
            if part.startswith("```sh\n"):
                yield f"{page.relative_to(ROOT)} under {heading!r}", heading, part[len("```sh\n"):-3]
            else:
                headings = re.findall(r"^#+ (.*)$", part, flags=re.MULTILINE)
                heading = headings[-1] if headings else heading
    for scenario in SCENARIOS:
        rendered = helm.Chart.load(CHART).render(load_values(scenario), name=RELEASE, namespace=NAMESPACE)
        yield f"NOTES.txt of {scenario.name}", "", rendered["qdrant-exporter/templates/NOTES.txt"]
    # The binary's own help (scripts/test.sh builds it before these tests).
    for args in (["--help"], ["kube", "sidecar", "--help"]):
        shown = subprocess.run([str(ROOT / "target" / "debug" / "qdrant-exporter"), *args], capture_output=True, text=True, check=True)
        yield f"qdrant-exporter {' '.join(args)}", "", shown.stdout


def qdrant_chart_commands(text: str) -> list[list[str]]:
    """Each `helm install|upgrade` of the official chart in a shell text, as words."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True) if "helm" in line else []
        if words[:1] == ["helm"] and "qdrant/qdrant" in words and {"install", "upgrade"} & set(words):
            commands.append(words)
    return commands


KEY_SETTING = re.compile(r"^(readOnlyApiKey|apiKey)(\.|=)")


def auth_and_version_changes(heading: str, text: str) -> list[str]:
    """What a shell text does to Qdrant that an exporter's install must not: a `helm upgrade` of
    the official chart without `--version` moves Qdrant to the newest chart and server, and a key
    set outside a section about a Qdrant that already has API keys turns authentication on for
    every client (Qdrant does so for any key, read-only included)."""
    for_keyed_qdrant = "with api keys" in heading.lower()
    problems = []
    for words in qdrant_chart_commands(text):
        if "--version" not in words:
            problems.append(f"no --version: {' '.join(words)}")
        settings = [value for flag, value in zip(words, words[1:]) if flag in ("--set", "--set-string")]
        if any(KEY_SETTING.match(setting) for setting in settings) and not for_keyed_qdrant:
            problems.append(f"sets an API key outside a section for a Qdrant with API keys: {' '.join(words)}")
    return problems


BLOCKS = list(shell_blocks())


def test_the_docs_and_notes_show_the_upgrade_of_the_official_chart():
    assert sum(bool(qdrant_chart_commands(text)) for _, _, text in BLOCKS) >= 3


@pytest.mark.parametrize("heading, text", [(h, t) for _, h, t in BLOCKS], ids=[w for w, _, _ in BLOCKS])
def test_no_shown_command_changes_qdrants_authentication_or_version(heading, text):
    assert auth_and_version_changes(heading, text) == []


@pytest.mark.parametrize(
    "heading, text, problem",
    [
        ("Beside the official Qdrant chart", "helm upgrade qdrant qdrant/qdrant --reuse-values -f s.yaml", "no --version"),
        ("Beside the official Qdrant chart", "helm -n db upgrade --install qdrant qdrant/qdrant -f s.yaml", "no --version"),
        ("Beside the official Qdrant chart", "helm upgrade qdrant qdrant/qdrant --version 1.19.0 \\\n  --set readOnlyApiKey=x", "sets an API key"),
        ("Quick start", "helm upgrade qdrant qdrant/qdrant --version 1.19.0 --set apiKey.valueFrom.secretKeyRef.name=k", "sets an API key"),
        ("A Qdrant without API keys", "helm upgrade qdrant qdrant/qdrant --version 1.19.0 --set readOnlyApiKey=true", "sets an API key"),
    ],
)
def test_the_check_catches_a_command_that_changes_qdrant(heading, text, problem):
    [found] = auth_and_version_changes(heading, text)
    assert found.startswith(problem), found
