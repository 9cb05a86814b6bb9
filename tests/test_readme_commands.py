"""The README documents only what exists: every command line it shows runs (`--help` of each
subcommand it names answers), every option it names is one that command takes, every setting
variable it names is read by the code, and the two set-up commands are Makefile targets."""
import re
import subprocess

from conftest import BINARY, ROOT

README = (ROOT / "README.md").read_text()


def code_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def help_text(*words):
    done = subprocess.run([str(BINARY), *words, "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"visage {' '.join(words)} --help: {done.stderr}"
    return done.stdout


def documented_commands():
    """(subcommand words, options) for each `visage …` line of the README's shell blocks."""
    found = []
    for block in code_blocks("sh"):
        for line in block.splitlines():
            command = line.split("#", 1)[0].split()
            if not command or command[0] != "visage":
                continue
            words, rest = [], command[1:]
            # Subcommands are the leading lowercase words; "a|b|c" names alternatives.
            while rest and re.fullmatch(r"[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*", rest[0]):
                words.append(rest.pop(0).split("|"))
            options = re.findall(r"--[a-z][a-z0-9-]*", " ".join(rest))
            # "create NAME FILE|show|ls": after an argument, "|word" names a sibling of the last word.
            siblings = [w for token in rest if "|" in token for w in token.split("|")[1:] if re.fullmatch(r"[a-z][a-z0-9-]*", w)]
            alternatives = [[]]
            for choices in words:
                alternatives = [path + [choice] for path in alternatives for choice in choices]
            found += [(tuple(path), options if len(alternatives) == 1 else []) for path in alternatives]
            if words:
                found += [(tuple(w[0] for w in words[:-1]) + (sibling,), []) for sibling in siblings]
    return found


def test_every_documented_command_and_option_exists():
    commands = documented_commands()
    assert len(commands) > 30, commands  # the parser found the README's command list
    for words, options in commands:
        text = help_text(*words)
        for option in options:
            assert option in text, f"visage {' '.join(words)} takes no {option}"


def test_every_documented_serve_flag_and_variable_exists():
    serve = help_text("serve")
    flags = set(re.findall(r"`(--[a-z][a-z0-9-]*)`", README))
    assert {"--host", "--port", "--data", "--role", "--threads"} <= flags
    for flag in flags:
        assert flag in serve or any(flag in help_text(*w) for w, _ in documented_commands()), flag
    sources = "\n".join(p.read_text() for p in (ROOT / "Sources").rglob("*.swift"))
    for variable in set(re.findall(r"\bVISAGE_[A-Z0-9_]+\b", README)):
        assert f'"{variable}"' in sources, f"{variable} is documented but never read"


def test_the_two_set_up_commands_are_make_targets():
    first = code_blocks("sh")[0]
    assert re.search(r"^make run\b", first, re.M) and re.search(r"^make test\b", first, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "scripts/test" in makefile and ".build/release/visage serve" in makefile
