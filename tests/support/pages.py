"""Reading the HTML pages behind e-mailed links as a browser would: the form, its action, its fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlForm:
    action: str = ""
    method: str = "get"
    hidden: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)  # names of the visible inputs, in order


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[HtmlForm] = []
        self.scripts = 0
        self.external: list[str] = []
        self.assets: list[str] = []  # src and href of scripts and stylesheets

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in ("src", "href", "action"):
            if a.get(name, "").startswith(("http:", "https:", "//")):
                self.external.append(a[name])
        if tag in ("script", "link") and (a.get("src") or a.get("href")):
            self.assets.append(a.get("src") or a.get("href") or "")
        if tag == "script":
            self.scripts += 1
        elif tag == "form":
            self.forms.append(HtmlForm(action=a.get("action", ""), method=a.get("method", "get").lower()))
        elif tag == "input" and self.forms:
            if a.get("type") == "hidden":
                self.forms[-1].hidden[a["name"]] = a.get("value", "")
            else:
                self.forms[-1].inputs.append(a["name"])


def parse(html: str) -> _Forms:
    found = _Forms()
    found.feed(html)
    return found


def the_form(html: str) -> HtmlForm:
    """The page's only form (asserting the page is script-free and names no other host)."""
    found = parse(html)
    assert found.scripts == 0, "a link page runs no script"
    assert found.external == [], f"a link page loads nothing from elsewhere: {found.external}"
    assert len(found.forms) == 1, html
    return found.forms[0]
