"""`python -m infra.local`: the whole backend on this machine (what `make dev` runs).

moto in this process, the template's resources created in it, the HTTP API on 127.0.0.1, the
stream relay, SQS workers, schedules and a mail console; then demo data and a ready admin token.
Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from infra.local import console
from infra.local.runtime import ROOT, ensure_paths

if TYPE_CHECKING:
    from infra.local.gateway import Gateway
    from infra.local.runtime import Runtime

READY = "Keel local stack ready on {url}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("KEEL_PORT", "3000")),
        help="HTTP API port (0: any free)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=ROOT / ".keel" / "dev.json",
        help="where the URLs and admin credentials are written (default .keel/dev.json)",
    )
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--mail-from", default="no-reply@keel.local")
    parser.add_argument(
        "--log-level", default=os.environ.get("KEEL_LOG_LEVEL", "WARNING"), help="the handlers' log level"
    )
    parser.add_argument(
        "--schedule-speedup",
        type=float,
        default=float(os.environ.get("KEEL_SCHEDULE_SPEEDUP", "1")),
        help="divide every schedule's rate by this (60: rate(5 minutes) runs every 5 s)",
    )
    parser.add_argument("--no-seed", action="store_true", help="start without the demo data")
    return parser.parse_args(argv)


def seed(api_url: str) -> dict[str, Any]:
    try:
        from infra.seed import seed_demo
    except ImportError as exc:
        console.warn(f"no demo data: infra.seed is not there yet ({exc})")
        return {}
    try:
        return dict(seed_demo(api_url))
    except Exception as exc:
        console.error("seeding the demo data failed; the stack runs without it", exc)
        return {}


def write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def banner(state: dict[str, Any]) -> str:
    api = state["api_url"]
    lines = [
        "",
        "Keel local stack",
        f"  API        {api}   (docs: {api}/docs)",
        f"  AWS (moto) {state['moto_url']}   (sent mail: {api}/_local/mail)",
    ]
    if state.get("admin_email"):
        lines += [
            f"  Admin      {state['admin_email']} / {state['admin_password']}",
            f"  Token      {state['admin_token']}",
        ]
    if state.get("stripe_webhook_secret"):
        lines += [
            f"  Stripe     webhook secret {state['stripe_webhook_secret']}",
            f"  Nomba      signing key {state['nomba_signing_key']}",
            "  Events     python -m infra.gateway_events payment_intent.succeeded --tenant <tenant_id>",
            "  Checkout   python -m infra.gateway_events checkout.session.completed --hold <hold_id>"
            f"   (fake Stripe {state['fake_gateway_url']})",
        ]
    if state.get("fake_twilio_url"):
        lines.append(f"  Twilio     fake API {state['fake_twilio_url']} (sent SMS: /_fake/state)")
    lines += [f"  State      {state['state_file']}", "", "Try:"]
    if state.get("admin_token"):
        lines.append(f"  export TOKEN={state['admin_token']}")
    lines.append(f"  curl -s {api}/health")
    lines.append(f'  curl -s -H "Authorization: Bearer $TOKEN" {api}/tenants')
    login = json.dumps(
        {
            "email": state.get("admin_email") or "EMAIL",
            "password": state.get("admin_password") or "PASSWORD",
        }
    )
    lines.append(f"  curl -s -X POST -H 'content-type: application/json' -d '{login}' {api}/auth/login")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: do not wait for the clean stop
            os._exit(130)
        console.say(f"\n{signal.Signals(signum).name}: stopping (again to force)")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    from infra.local.emulation import Moto, base_environment

    os.environ.update(base_environment())
    ensure_paths()
    # Powertools warns on every invocation that adds no metric; metrics are off locally anyway
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    from infra.local.gateway import Gateway

    try:
        gateway = Gateway(args.port)
    except OSError as exc:
        console.error(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
        return 1
    api_url = gateway.url
    moto = Moto()
    moto_url = moto.start()
    os.environ["AWS_ENDPOINT_URL"] = moto_url
    console.line("aws", f"moto on {moto_url}")
    workers: list[threading.Thread] = []
    runtimes: list[Runtime] = []
    try:
        state = start(args, gateway, moto_url, stop, workers, runtimes)
        if stop.is_set():  # Ctrl-C while starting
            return 0
        if state is None:
            return 1
        write_state(args.state_file, state)
        console.say(banner(state))
        console.say(READY.format(url=api_url))
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        stop.set()
        _exit_anyway_after(STOP_SECONDS)
        gateway.shutdown()
        deadline = time.monotonic() + 3  # one budget for all (they are daemons, parked in long polls)
        for worker in workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
        for runtime in runtimes:
            runtime.close()
        moto.stop()
        console.say("stopped")


STOP_SECONDS = 10.0


def _exit_anyway_after(seconds: float) -> None:
    """Ctrl-C always ends the stack: if stopping its parts (an invocation or a long poll still
    running, a thread the interpreter would wait for at exit) takes longer, the process exits."""

    def force() -> None:
        console.say(f"stopping took over {seconds:.0f} s: exiting now")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    timer = threading.Timer(seconds, force)
    timer.daemon = True
    timer.start()


def start(
    args: argparse.Namespace,
    gateway: Gateway,
    moto_url: str,
    stop: threading.Event,
    workers: list[threading.Thread],
    runtimes: list[Runtime],
) -> dict[str, Any] | None:
    from infra.local import emulation
    from infra.local.gateway import Cors
    from infra.local.mail import MailConsole, PushConsole
    from infra.local.pollers import SqsWorker, StreamPoller
    from infra.local.runtime import Runtime
    from infra.local.scheduler import schedule_runners
    from infra.local.template import (
        Resolver,
        TemplateError,
        cors_configuration,
        event_sources,
        functions,
        load_template,
        parameter_values,
        pseudo_parameters,
        routes,
        sam_transform,
    )

    api_url = gateway.url
    stack_name = f"keel-{args.stage}"
    template = load_template(args.template)
    wanted = {
        "Stage": args.stage,
        "PublicBaseUrl": api_url,
        "MailFrom": args.mail_from,
        "AllowedOrigins": "*",  # any origin locally
        "LogLevel": args.log_level.upper(),
    }
    declared = template.get("Parameters") or {}
    parameters = {k: v for k, v in wanted.items() if k in declared}
    try:
        translated = sam_transform(template, parameters)
        stack = emulation.create_stack(template, stack_name, parameters, api_url, translated=translated)
    except TemplateError as exc:
        console.error(f"template.yaml cannot run locally: {exc}")
        return None

    by_cfn = len(stack.physical) - len(stack.provisioned)
    console.line(
        "aws",
        f"stack {stack_name} from template.yaml: {by_cfn} resources by moto's CloudFormation, "
        f"{len(stack.provisioned)} through the API ({', '.join(stack.provisioned)})",
    )
    specs = functions(template, translated)
    # notifications (issue 10): Twilio's REST API faked on loopback, the real client pointed at it
    from infra.local.fake_twilio import FakeTwilio

    twilio = FakeTwilio().start()

    def stop_twilio_when_done() -> None:
        stop.wait()
        twilio.stop()

    workers.append(threading.Thread(target=stop_twilio_when_done, daemon=True))
    # each function's own variables (POWERTOOLS_SERVICE_NAME among them) go to its instances; the
    # ones they share are also set here, for the seeding and the e-mail identity below
    per_function = {
        spec.logical_id: {
            **emulation.function_environment(stack, spec.environment),
            "PUBLIC_BASE_URL": api_url,
            # webhooks may target a receiver on this machine over plain http (keel.core.netguard)
            "ALLOW_LOCAL_TARGETS": "true",
            "TWILIO_API_BASE": twilio.url,
        }
        for spec in specs.values()
    }
    environment: dict[str, str] = {}
    for variables in per_function.values():
        environment.update({k: v for k, v in variables.items() if not k.startswith("POWERTOOLS_")})
    os.environ.update(environment)

    if "MailFrom" in parameters:
        import boto3

        boto3.client("ses").verify_email_identity(EmailAddress=parameters["MailFrom"])

    gateway_state: dict[str, str] = {}
    if "AppSecret" in stack.physical:  # payments (issue 12): fake gateway APIs and signing secrets
        from infra.local.gateway_secrets import configure

        fake, gateway_state = configure(stack.ref("AppSecret"))

        def stop_fake_when_done() -> None:
            stop.wait()
            fake.stop()

        stop_fake = threading.Thread(target=stop_fake_when_done, daemon=True)
        workers.append(stop_fake)
        console.line("gateways", f"fake Stripe (payments, Checkout Sessions) and Nomba APIs on {fake.url}")

    runtime = Runtime(specs, stack_name, per_function)
    runtimes.append(runtime)
    for logical_id, err in runtime.warm().items():
        console.error(f"{logical_id} ({specs[logical_id].module}) does not import; its invocations fail", err)

    params_only = Resolver(refs={**parameter_values(template, parameters), **pseudo_parameters(stack_name)})
    cors = Cors.from_config(params_only.resolve(cors_configuration(template)))
    api_routes = routes(template)
    gateway.configure(runtime, api_routes, cors)
    console.line(
        "api", f"{len(api_routes)} routes to {len({r.function for r in api_routes})} functions on {api_url}"
    )
    gateway.start()

    workers.append(MailConsole(stop))
    workers.append(PushConsole(stop))
    console.line("sms", f"fake Twilio API on {twilio.url} (sent: {twilio.url}/_fake/state)")
    workers += [StreamPoller(runtime, stack, ev, stop) for ev in event_sources(specs.values(), "DynamoDB")]
    workers += [SqsWorker(runtime, stack, ev, stop) for ev in event_sources(specs.values(), "SQS")]
    schedules = [*event_sources(specs.values(), "Schedule"), *event_sources(specs.values(), "ScheduleV2")]
    workers += schedule_runners(runtime, stack, schedules, max(args.schedule_speedup, 1e-9), stop)
    for worker in workers:
        worker.start()

    if stop.is_set():
        return None
    seeded = {} if args.no_seed else seed(api_url)
    if seeded.get("demo_tenant_id"):
        from infra.local.fake_twilio import configure_demo_sms

        seeded.update(configure_demo_sms(api_url, str(seeded["admin_token"]), str(seeded["demo_tenant_id"])))
    return {
        **seeded,
        "api_url": api_url,
        "moto_url": moto_url,
        "admin_email": seeded.get("admin_email"),
        "admin_password": seeded.get("admin_password"),
        "admin_token": seeded.get("admin_token"),
        "state_file": str(args.state_file),
        **gateway_state,
        "fake_twilio_url": twilio.url,
        "environment": {k: v for k, v in sorted(environment.items()) if not k.startswith("POWERTOOLS_")},
    }


if __name__ == "__main__":
    sys.exit(main())
