"""template.yaml, read for the local stack: the SAM expansion, the functions, their events and routes.

Nothing here talks to AWS: it loads the YAML (short tags such as `!Ref` become their long forms),
expands it with the SAM translator, splits the result into what moto's CloudFormation can create
and what the local stack does itself, and resolves CloudFormation intrinsics once the physical
ids are known.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.lambda_events import ACCOUNT_ID, REGION

# S3 placeholder the translator needs instead of local CodeUri/ContentUri folders.
CODE_BUCKET = "keel-local-code"

# Resource types the local stack never creates: the API is the local gateway, functions run in
# process, and IAM does not apply.
LOCAL_PREFIXES = ("AWS::ApiGateway", "AWS::ApiGatewayV2", "AWS::Lambda::", "AWS::IAM::", "AWS::Serverless")


class TemplateError(Exception):
    """The template (or a value in it) cannot be used by the local stack."""


# ---------------------------------------------------------------------------------------- loading


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader with CloudFormation short tags, and dates left as strings."""


_CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _short_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path | str) -> dict[str, Any]:
    return parse_template(Path(path).read_text())


def parse_template(text: str) -> dict[str, Any]:
    loaded = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(loaded, dict) or "Resources" not in loaded:
        raise TemplateError("not a CloudFormation template (no Resources)")
    return loaded


# ---------------------------------------------------------------------------------------- SAM


def sam_transform(
    template: dict[str, Any], parameters: dict[str, str], region: str = REGION
) -> dict[str, Any]:
    """The plain CloudFormation the SAM transform makes of the template (IAM lookups stubbed)."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    sam = copy.deepcopy(template)
    for resource in sam.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):  # a local folder: the translator wants S3
                props[key] = f"s3://{CODE_BUCKET}/{props[key].strip('/')}"
    values = dict(parameters)
    to_py27_compatible_template(sam, values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        out = translator.translate(sam, parameter_values=values, get_managed_policy_map=lambda: {})
    except InvalidDocumentException as exc:
        raise TemplateError("; ".join(str(e) for e in exc.causes)) from exc
    return undo_mark_unicode_str_in_template(out)


def is_local_only(resource_type: str) -> bool:
    return resource_type.startswith(LOCAL_PREFIXES)


def references(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, Fn::GetAtt, ${X} and ${X.Attr} in Fn::Sub)."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for key, inner in v.items():
                if key == "Ref" and isinstance(inner, str):
                    found.add(inner)
                elif key == "Fn::GetAtt":
                    name = inner[0] if isinstance(inner, list) else str(inner).split(".", 1)[0]
                    found.add(name)
                elif key == "Fn::Sub":
                    text = inner[0] if isinstance(inner, list) else inner
                    local = set(inner[1]) if isinstance(inner, list) and len(inner) > 1 else set()
                    for var in re.findall(r"\$\{([^!}][^}]*)\}", str(text)):
                        name = var.split(".", 1)[0]
                        if name not in local:
                            found.add(name)
                    walk(inner[1] if isinstance(inner, list) and len(inner) > 1 else None)
                else:
                    walk(inner)
        elif isinstance(v, list):
            for inner in v:
                walk(inner)

    walk(value)
    return {name for name in found if not name.startswith("AWS::")}


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids so that each comes after the ones (in `resources`) it refers to."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise TemplateError(f"circular reference through {name}")
        state[name] = 1
        body = resources[name]
        deps = references(body.get("Properties", {}))
        depends_on = body.get("DependsOn", [])
        deps |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
        for dep in sorted(deps):
            if dep in resources:
                visit(dep)
        state[name] = 2
        order.append(name)

    for name in resources:
        visit(name)
    return order


@dataclass
class StackPlan:
    """The expanded template split by who creates what."""

    cloudformation: dict[str, Any]  # the template moto's CloudFormation creates
    provisioned: dict[str, Any]  # resources the local stack creates through the API (moto lacks them)
    local: dict[str, Any]  # resources played by the local stack itself (API, functions, IAM)


def plan_stack(
    translated: dict[str, Any],
    supported: Callable[[str], bool],
    placeholders: Callable[[str, dict[str, Any]], tuple[str, dict[str, str]]],
) -> StackPlan:
    """Splits the expanded template.

    `supported(type)` says whether moto's CloudFormation creates a type. References to resources
    the local stack plays itself (a Lambda ARN in an Events rule's targets, the API id in an alarm
    dimension) are replaced with `placeholders(logical_id, resource)` -> (Ref value, attributes).
    """
    resources = translated.get("Resources", {})
    local = {k: v for k, v in resources.items() if is_local_only(v["Type"])}
    provisioned = {k: v for k, v in resources.items() if k not in local and not supported(v["Type"])}
    kept = {k: v for k, v in resources.items() if k not in local and k not in provisioned}
    for name, body in kept.items():
        bad = references(body.get("Properties", {})) & set(provisioned)
        if bad:
            raise TemplateError(f"{name} refers to {sorted(bad)}, which moto's CloudFormation cannot create")
    values = {name: placeholders(name, body) for name, body in local.items()}
    resolver = Resolver(refs={k: v[0] for k, v in values.items()}, attrs={k: v[1] for k, v in values.items()})

    def swap(v: Any) -> Any:
        if isinstance(v, dict):
            if set(v) == {"Ref"} and v["Ref"] in local:
                return resolver.resolve(v)
            if set(v) == {"Fn::GetAtt"} and references(v) <= set(local):
                return resolver.resolve(v)
            return {key: swap(inner) for key, inner in v.items()}
        if isinstance(v, list):
            return [swap(inner) for inner in v]
        return v

    cfn = {key: value for key, value in translated.items() if key not in ("Resources", "Outputs")}
    cfn["Resources"] = {
        name: {
            **{key: value for key, value in body.items() if key != "DependsOn"},
            **({"DependsOn": deps} if (deps := _kept_depends(body, kept)) else {}),
            "Properties": swap(body.get("Properties", {})),
        }
        for name, body in kept.items()
    }
    return StackPlan(cloudformation=cfn, provisioned=swap(provisioned), local=local)


def _kept_depends(body: dict[str, Any], kept: dict[str, Any]) -> list[str]:
    depends_on = body.get("DependsOn", [])
    names = [depends_on] if isinstance(depends_on, str) else list(depends_on)
    return [n for n in names if n in kept]


# ---------------------------------------------------------------------------------------- intrinsics


@dataclass
class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If (and the condition functions), Fn::Select,
    Fn::Split against known values. Unknown references raise TemplateError."""

    refs: dict[str, Any] = field(default_factory=dict)  # parameters, pseudo parameters, logical ids
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)  # logical id -> attribute -> value
    conditions: dict[str, Any] = field(default_factory=dict)  # name -> condition expression

    NO_VALUE = object()

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value: Any) -> Any:
        out = self._resolve(value)
        return None if out is self.NO_VALUE else out

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self._resolve(v) for v in value) if r is not self.NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            fn = self._functions().get(key)
            if fn is not None and (key != "Condition" or isinstance(arg, str)):  # not an IAM Condition
                return fn(arg)
        return {k: r for k, v in value.items() if (r := self._resolve(v)) is not self.NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda a: str(a[0]).join(str(x) for x in self._resolve(a[1])),
            "Fn::If": lambda a: self._resolve(a[1] if self.condition(a[0]) else a[2]),
            "Fn::Equals": lambda a: self._scalar(self._resolve(a[0])) == self._scalar(self._resolve(a[1])),
            "Fn::Not": lambda a: not self._resolve(a[0]),
            "Fn::And": lambda a: all(self._resolve(x) for x in a),
            "Fn::Or": lambda a: any(self._resolve(x) for x in a),
            "Condition": self.condition,
            "Fn::Select": lambda a: self._resolve(a[1])[int(self._resolve(a[0]))],
            "Fn::Split": lambda a: str(self._resolve(a[1])).split(str(a[0])),
            "Fn::ToJsonString": lambda a: json.dumps(self._resolve(a)),
        }

    @staticmethod
    def _scalar(v: Any) -> Any:
        return str(v).lower() if isinstance(v, bool) else str(v)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return self.NO_VALUE
        if name not in self.refs:
            raise TemplateError(f"cannot resolve Ref {name}")
        return self.refs[name]

    def _get_att(self, arg: Any) -> str:
        name, attr = (arg if isinstance(arg, list) else str(arg).split(".", 1))[:2]
        attr = self._resolve(attr)
        try:
            return self.attrs[name][attr]
        except KeyError:
            raise TemplateError(f"cannot resolve Fn::GetAtt {name}.{attr}") from None

    def _sub(self, arg: Any) -> str:
        text, local = (
            (arg[0], self._resolve(arg[1]) if len(arg) > 1 else {}) if isinstance(arg, list) else (arg, {})
        )

        def one(match: re.Match[str]) -> str:
            var = match.group(1)
            if var.startswith("!"):  # ${!Literal}
                return "${" + var[1:] + "}"
            if var in local:
                return str(local[var])
            if var in self.refs:
                return str(self.refs[var])
            if "." in var:
                return self._get_att(var.split(".", 1))
            raise TemplateError(f"cannot resolve ${{{var}}} in Fn::Sub")

        return re.sub(r"\$\{([^}]+)\}", one, str(text))


def parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """Template parameters: the given values over the defaults (CommaDelimitedList -> list)."""
    out: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise TemplateError(f"parameter {name} has no value")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        out[name] = value
    return out


def pseudo_parameters(stack_name: str, region: str = REGION, account_id: str = ACCOUNT_ID) -> dict[str, str]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
    }


# ---------------------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class Route:
    """An HttpApi event: `method` is upper case (ANY matches all); `path` may be `$default`."""

    method: str
    path: str
    function: str  # logical id

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventSource:
    """A non-HTTP event of a function: SQS, DynamoDB, Schedule, ... with its raw Properties."""

    function: str
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class FunctionSpec:
    logical_id: str
    code_uri: str  # "functions/auth/"
    handler: str  # "app.lambda_handler"
    timeout: int
    memory: int
    environment: dict[str, Any]  # unresolved: Globals merged by the SAM transform
    events: list[EventSource]

    @property
    def module(self) -> str:
        """`functions/auth/` + `app.lambda_handler` -> `functions.auth.app`."""
        parts = [p for p in self.code_uri.strip("/").split("/") if p and p != "."]
        return ".".join([*parts, self.handler.rsplit(".", 1)[0]])

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def functions(template: dict[str, Any], translated: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every AWS::Serverless::Function: code and settings from the expansion, events from the source."""
    out: dict[str, FunctionSpec] = {}
    expanded = translated.get("Resources", {})
    for name, body in template.get("Resources", {}).items():
        if body.get("Type") != "AWS::Serverless::Function":
            continue
        fn = expanded.get(name, {})
        props = fn.get("Properties", {})
        code = props.get("Code", {})
        if code.get("S3Bucket") != CODE_BUCKET:
            raise TemplateError(f"{name}: only a local CodeUri folder can run locally")
        source = body.get("Properties") or {}
        events = [
            EventSource(function=name, name=ev_name, type=ev["Type"], properties=ev.get("Properties") or {})
            for ev_name, ev in (source.get("Events") or {}).items()
        ]
        out[name] = FunctionSpec(
            logical_id=name,
            code_uri=code["S3Key"] + "/",
            handler=props.get("Handler", source.get("Handler", "")),
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            environment=(props.get("Environment") or {}).get("Variables") or {},
            events=events,
        )
    return out


def routes(template: dict[str, Any]) -> list[Route]:
    """HttpApi events of every function, in template order."""
    found: list[Route] = []
    for name, body in template.get("Resources", {}).items():
        if body.get("Type") != "AWS::Serverless::Function":
            continue
        for ev in ((body.get("Properties") or {}).get("Events") or {}).values():
            if ev.get("Type") != "HttpApi":
                continue
            props = ev.get("Properties") or {}
            path = props.get("Path", "$default")
            method = str(props.get("Method", "ANY")).upper()
            found.append(
                Route(
                    method="ANY" if method in ("*", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method,
                    path=path,
                    function=name,
                )
            )
    return found


def cors_configuration(template: dict[str, Any]) -> Any:
    """The first AWS::Serverless::HttpApi's CorsConfiguration (unresolved), or None."""
    for body in template.get("Resources", {}).values():
        if body.get("Type") == "AWS::Serverless::HttpApi":
            return (body.get("Properties") or {}).get("CorsConfiguration")
    return None


def event_sources(specs: Iterable[FunctionSpec], kind: str) -> list[EventSource]:
    return [ev for spec in specs for ev in spec.events if ev.type == kind]
