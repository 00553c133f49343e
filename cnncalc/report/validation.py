"""`cnncalc validate`'s reports: a line per file, GitHub Actions annotations, the JUnit XML and the summary."""

from __future__ import annotations

from pathlib import Path

from cnncalc.shown import shown
from cnncalc.validation import FileResult, Message


def counts(results: list[FileResult]) -> dict[str, int]:
    return {
        "files": len(results),
        "passed": sum(r.status == "passed" for r in results),
        "failed": sum(r.status == "failed" for r in results),
        "errors": sum(r.status == "error" for r in results),
        "warnings": sum(len(r.warnings) for r in results),
    }


def summary_line(results: list[FileResult]) -> str:
    c = counts(results)
    warned = f", {c['warnings']} warning{'s' if c['warnings'] != 1 else ''}" if c["warnings"] else ""
    return (
        f"{c['files']} file{'s' if c['files'] != 1 else ''}: {c['passed']} passed, {c['failed']} failed, "
        f"{c['errors']} unusable{warned}."
    )


def located(result: FileResult, message: Message) -> str:
    return str(message.position) if message.position else result.path


def text_lines(result: FileResult) -> list[str]:
    """`✓ path: summary`, or `✗ path:line:col: message` and further problems indented.

    Each line is shown with control characters escaped, so a newline in a layer name, an `expect:` key
    or a file name cannot start a line of its own (such as a GitHub `::error` command).
    """
    if result.status == "passed":
        lines = [f"✓ {result.path}: {result.summary()}"]
    else:
        first, *more = result.errors
        lines = [f"✗ {located(result, first)}: {first.text}"]
        lines += [f"    {located(result, m)}: {m.text}" for m in more]
    lines += [f"    {located(result, m)}: warning: {m.text}" for m in result.warnings]
    return [shown(line) for line in lines]


def github_lines(result: FileResult) -> list[str]:
    """GitHub Actions workflow commands, which show as annotations on the file's lines."""
    if result.status == "passed" and not result.messages:
        return [shown(f"✓ {result.path}: {result.summary()}")]
    lines = []
    for message in result.messages:
        props = f"file={_escape_property(_repo_relative(result.path))}"
        if message.position and message.position.line:  # line 0: the file as a whole
            props = f"file={_escape_property(_repo_relative(message.position.file))},line={message.position.line},"
            props += f"col={message.position.column}"
        lines.append(f"::{message.level} {props},title=cnncalc::{_escape_data(shown(message.text))}")
    return lines


def _repo_relative(file: str) -> str:
    """GitHub matches annotations to files by their path from the checkout (the working directory)."""
    path = Path(file)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return path.relative_to(Path.cwd()).as_posix()
    return file


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(shown(text)).replace(":", "%3A").replace(",", "%2C")


def write_junit(results: list[FileResult], path: Path) -> None:
    """One testcase per file; a failed check is a <failure>, an unusable file an <error>."""
    import xml.etree.ElementTree as ET

    c = counts(results)
    suites = ET.Element("testsuites", name="cnncalc validate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="cnncalc validate",
        tests=str(c["files"]),
        failures=str(c["failed"]),
        errors=str(c["errors"]),
        skipped="0",
    )
    # Every text from a spec or a file name is shown with control characters escaped (cnncalc.shown):
    # XML 1.0 forbids most of them, so the report stays well-formed whatever the input.
    for result in results:
        case = ET.SubElement(suite, "testcase", classname="cnncalc.validate", name=shown(result.path))
        if result.status != "passed":
            tag = "error" if result.status == "error" else "failure"
            first = result.errors[0]
            message = shown(f"{located(result, first)}: {first.text}")
            element = ET.SubElement(case, tag, message=message, type=result.status)
            element.text = "\n".join(shown(f"{located(result, m)}: {m.level}: {m.text}") for m in result.messages)
        elif result.messages:
            ET.SubElement(case, "system-out").text = "\n".join(
                shown(f"{located(result, m)}: warning: {m.text}") for m in result.warnings
            )
    ET.indent(suites)
    from cnncalc.output_file import write_atomically

    xml = ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
    write_atomically(path, xml, "the JUnit report")
