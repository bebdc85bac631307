"""AWS on this machine: moto's server in this process, and the template's resources created in it.

moto's CloudFormation creates what it supports (table, queues, topics, the schedule's rule); the
few types it does not know (today: Secrets Manager secrets, SNS subscriptions, SQS queue
policies, CloudWatch alarms) are created here through the ordinary APIs, from the same template.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local import console, transactions
from infra.local.template import (
    ACCOUNT_ID,
    REGION,
    Resolver,
    StackPlan,
    TemplateError,
    dependency_order,
    parameter_values,
    plan_stack,
    pseudo_parameters,
    sam_transform,
)

LOCAL_API_ID = "keel-local"


def base_environment() -> dict[str, str]:
    """What every boto3 client and handler in this process needs before the first call."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF blobs on the console
        "POWERTOOLS_DEV": "false",
    }


_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb() -> None:
    """One DynamoDB (and stream) request at a time in moto, as atomic as DynamoDB is.

    moto's TransactWriteItems copies the table, applies the writes one by one and, when one is
    refused, puts the copy back: without this lock a write made by another invocation meanwhile
    would be lost, and a stream reader could see the records of a transaction that never was.
    """
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    handlers: list[Any] = [DynamoHandler, DynamoDBStreamsHandler]
    for handler in handlers:
        if getattr(handler, "_keel_serialized", False):
            continue
        original = handler.call_action

        def call_action(self: Any, _original: Any = original) -> Any:
            with _DYNAMODB_LOCK:
                return _original(self)

        handler.call_action = call_action
        handler._keel_serialized = True


class Moto:
    """moto's ThreadedMotoServer on a free loopback port."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        serialize_dynamodb()
        transactions.install()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines per AWS call
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._server.stop()


@dataclass
class Stack:
    """The created stack: every logical id's Ref value and attributes, and the resolver over them."""

    name: str
    resolver: Resolver
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    types: dict[str, str] = field(default_factory=dict)
    provisioned: list[str] = field(default_factory=list)  # created through the API, not CloudFormation

    def ref(self, logical_id: str) -> str:
        return str(self.resolver.refs[logical_id])

    def queue_url(self, arn_or_url: str) -> str:
        """A queue's URL from its ARN (event sources name queues by ARN)."""
        for logical_id, kind in self.types.items():
            if kind == "AWS::SQS::Queue" and arn_or_url in (
                self.resolver.refs[logical_id],
                self.resolver.attrs[logical_id].get("Arn"),
            ):
                return str(self.resolver.refs[logical_id])
        raise TemplateError(f"no queue {arn_or_url} in the stack")


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def moto_supports(resource_type: str) -> bool:
    from moto.cloudformation.parsing import get_model_map

    return resource_type in get_model_map()


def create_stack(
    template: dict[str, Any],
    stack_name: str,
    parameters: dict[str, str],
    api_url: str,
    translated: dict[str, Any] | None = None,
) -> Stack:
    """Expands the template (unless given its expansion), creates it in moto, resolves every logical id."""
    translated = translated if translated is not None else sam_transform(template, parameters)

    def placeholder(logical_id: str, body: dict[str, Any]) -> tuple[str, dict[str, str]]:
        kind = body["Type"]
        if kind == "AWS::ApiGatewayV2::Api":
            return LOCAL_API_ID, {"ApiEndpoint": api_url, "ApiId": LOCAL_API_ID}
        if kind == "AWS::Lambda::Function":
            name = f"{stack_name}-{logical_id}"
            return name, {"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"}
        if kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):  # AutoPublishAlias: event sources
            props = body.get("Properties", {})  # invoke the alias; locally, the function itself
            function = (
                f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{stack_name}-{props['FunctionName']['Ref']}"
            )
            qualifier = str(props.get("Name", "1"))
            return f"{function}:{qualifier}", {"Version": "1", "FunctionArn": function}
        return logical_id, {"Arn": f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical_id}"}

    plan = plan_stack(translated, moto_supports, placeholder)
    cfn = _client("cloudformation")
    template_params = set(plan.cloudformation.get("Parameters", {}))
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(plan.cloudformation),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items() if k in template_params
        ],
    )
    status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")]
        raise TemplateError(f"stack {stack_name} is {status}: {reasons}")

    resolver = Resolver(
        refs={**parameter_values(translated, parameters), **pseudo_parameters(stack_name)},
        conditions=translated.get("Conditions") or {},
    )
    stack = Stack(name=stack_name, resolver=resolver)
    for logical_id, body in plan.local.items():
        ref, attrs = placeholder(logical_id, body)
        resolver.refs[logical_id] = ref
        resolver.attrs[logical_id] = attrs
    for res in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]:
        logical_id, kind = res["LogicalResourceId"], res["ResourceType"]
        ref, attrs = describe(kind, res["PhysicalResourceId"])
        resolver.refs[logical_id] = ref
        resolver.attrs[logical_id] = attrs
        stack.physical[logical_id] = ref
        stack.types[logical_id] = kind
    provision(plan, stack)
    return stack


# ---------------------------------------------------------------------------------------- lookups


def describe(kind: str, physical_id: str) -> tuple[str, dict[str, str]]:
    """A resource's Ref value and attributes, as CloudFormation would give them."""
    if kind == "AWS::DynamoDB::Table":
        table = _client("dynamodb").describe_table(TableName=physical_id)["Table"]
        attrs = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attrs["StreamArn"] = table["LatestStreamArn"]
        return table["TableName"], attrs
    if kind == "AWS::SQS::Queue":
        sqs = _client("sqs")
        name = physical_id.rstrip("/").rsplit("/", 1)[-1]
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}
    if kind == "AWS::SNS::Topic":
        return physical_id, {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[-1]}
    if kind == "AWS::Events::Rule":
        rule = _client("events").describe_rule(Name=physical_id)
        return physical_id, {"Arn": rule["Arn"]}
    return physical_id, {}


# ---------------------------------------------------------------------------------------- the rest


Provisioner = Callable[[str, dict[str, Any], Stack], tuple[str, dict[str, str]]]


def _secret(logical_id: str, props: dict[str, Any], stack: Stack) -> tuple[str, dict[str, str]]:
    sm = _client("secretsmanager")
    value = props.get("SecretString")
    generate = props.get("GenerateSecretString")
    if value is None and generate is not None:
        options = {
            k: generate[k]
            for k in (
                "PasswordLength",
                "ExcludeCharacters",
                "ExcludeNumbers",
                "ExcludePunctuation",
                "ExcludeUppercase",
                "ExcludeLowercase",
                "IncludeSpace",
                "RequireEachIncludedType",
            )
            if k in generate
        }
        password = sm.get_random_password(**options)["RandomPassword"]
        if "SecretStringTemplate" in generate:
            doc = json.loads(generate["SecretStringTemplate"])
            doc[generate["GenerateStringKey"]] = password
            value = json.dumps(doc)
        else:
            value = password
    args: dict[str, Any] = {"Name": props.get("Name") or f"{stack.name}-{logical_id}"}
    if props.get("Description"):
        args["Description"] = props["Description"]
    if value is not None:
        args["SecretString"] = value
    arn = sm.create_secret(**args)["ARN"]
    return arn, {"Id": arn}


def _subscription(_: str, props: dict[str, Any], __: Stack) -> tuple[str, dict[str, str]]:
    attributes: dict[str, str] = {}
    for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy"):
        if key in props:
            value = props[key]
            attributes[key] = (
                json.dumps(value)
                if isinstance(value, dict)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    arn = _client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, {}


def _queue_policy(logical_id: str, props: dict[str, Any], _: Stack) -> tuple[str, dict[str, str]]:
    sqs = _client("sqs")
    for url in props["Queues"]:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    return logical_id, {}


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def _alarm(logical_id: str, props: dict[str, Any], stack: Stack) -> tuple[str, dict[str, str]]:
    cw = _client("cloudwatch")
    args = {k: props[k] for k in _ALARM_KEYS if k in props}
    for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
        if key in args:
            args[key] = int(args[key])
    if "Threshold" in args:
        args["Threshold"] = float(args["Threshold"])
    if "ActionsEnabled" in args:
        args["ActionsEnabled"] = str(args["ActionsEnabled"]).lower() == "true"
    name = props.get("AlarmName") or f"{stack.name}-{logical_id}"
    cw.put_metric_alarm(AlarmName=name, **args)
    arn = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return name, {"Arn": arn}


def _topic_policy(logical_id: str, props: dict[str, Any], _: Stack) -> tuple[str, dict[str, str]]:
    sns = _client("sns")
    for arn in props["Topics"]:
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(props["PolicyDocument"])
        )
    return logical_id, {}


def _ses_configuration_set(logical_id: str, props: dict[str, Any], _: Stack) -> tuple[str, dict[str, str]]:
    name = props.get("Name") or logical_id
    _client("ses").create_configuration_set(ConfigurationSet={"Name": name})
    return name, {}


def _ses_event_destination(logical_id: str, props: dict[str, Any], _: Stack) -> tuple[str, dict[str, str]]:
    destination = dict(props["EventDestination"])
    if "SnsDestination" in destination:
        destination["SNSDestination"] = destination.pop("SnsDestination")
    _client("ses").create_configuration_set_event_destination(
        ConfigurationSetName=props["ConfigurationSetName"], EventDestination=destination
    )
    return logical_id, {}


PROVISIONERS: dict[str, Provisioner] = {
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SNS::Subscription": _subscription,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SES::ConfigurationSet": _ses_configuration_set,  # notifications (issue 10): SES feedback
    "AWS::SES::ConfigurationSetEventDestination": _ses_event_destination,
}


def provision(plan: StackPlan, stack: Stack) -> None:
    """Creates, in dependency order, the resources moto's CloudFormation does not know."""
    for logical_id in dependency_order(plan.provisioned):
        body = plan.provisioned[logical_id]
        kind = body["Type"]
        if body.get("Condition") and not stack.resolver.condition(body["Condition"]):
            continue
        make = PROVISIONERS.get(kind)
        if make is None:
            console.warn(f"{logical_id} ({kind}) is not created locally: moto's CloudFormation lacks it")
            continue
        ref, attrs = make(logical_id, stack.resolver.resolve(body.get("Properties") or {}), stack)
        stack.resolver.refs[logical_id] = ref
        stack.resolver.attrs[logical_id] = attrs
        stack.physical[logical_id] = ref
        stack.types[logical_id] = kind
        stack.provisioned.append(logical_id)


def function_environment(stack: Stack, variables: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in variables.items():
        resolved = stack.resolver.resolve(value)
        if resolved is None:
            continue
        out[name] = str(resolved).lower() if isinstance(resolved, bool) else str(resolved)
    return out
