"""Mixed traffic shaped like a day of kynect, for locust (run by bench/load/run.py, which writes the plan).

Four kinds of visitor, in these shares of the simulated users:

- residents browsing (60 %): directory searches and service pages, in English and Spanish;
- partner systems (15 %): HSDS API searches and service records, with an API token;
- residents asking for help (15 %): `POST /api/ondemand/help-requests` with the intake token, each with a
  phone number of its own and a forwarded address of its own (as if behind the balancer from many homes);
- helpers (10 %): they read the offers' text messages (the file SMS backend's folder), open the link,
  accept, read the passcode text message and enter it, as a helper on a phone does.

The plan (LOAD_PLAN, JSON) carries the searches, service ids, HSDS paths, ZIP codes, tokens and folders.
Besides locust's own statistics, every response that is not what the page should answer, and every help
request's outcome, are written as JSON lines to the plan's `events` file, for the run's checks.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections import deque
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
EVENTS = Path(PLAN["events"]).open("a", buffering=1)  # noqa: SIM115 (open for the whole run)
SMS_FOLDER = Path(PLAN["sms_folder"])
BALANCER_ERROR = "X-Kynect-Balancer-Error"
RETRIES = 4
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OFFER_LINK = re.compile(r"https?://[^/\s]+(/(?:es/)?ondemand/offer/[0-9a-f-]{36}/[^/\s]+/)")
PASSCODE = re.compile(r"\b(\d{6})\b")

rng = random.Random(PLAN["seed"])
phone_numbers = itertools.count()


def record(**fields: Any) -> None:
    EVENTS.write(json.dumps({"at": time.time(), **fields}) + "\n")


def judge(response: Any, kind: str, expected: tuple[int, ...]) -> bool:
    """Mark the response for locust; write down every unexpected one. True when it was expected."""
    if response.status_code in expected:
        response.success()
        return True
    from_balancer = BALANCER_ERROR in response.headers
    record(kind=kind, status=response.status_code, balancer=from_balancer, error=str(response.error or ""))
    response.failure(f"{response.status_code}{' from the balancer' if from_balancer else ''}")
    return False


class ResidentBrowsing(HttpUser):
    weight = 60
    wait_time = between(1, 6)

    def search(self, prefix: str, kind: str) -> None:
        with self.client.get(
            f"{prefix}/search/", params=rng.choice(PLAN["searches"]), name=kind, catch_response=True
        ) as response:
            judge(response, kind, (200,))

    def service(self, prefix: str, kind: str) -> None:
        path = f"{prefix}/services/{rng.choice(PLAN['services'])}/"
        with self.client.get(path, name=kind, catch_response=True) as response:
            judge(response, kind, (200,))

    @task(4)
    def search_english(self) -> None:
        self.search("", "search (en)")

    @task(2)
    def search_spanish(self) -> None:
        self.search("/es", "search (es)")

    @task(3)
    def service_english(self) -> None:
        self.service("", "service page (en)")

    @task(1)
    def service_spanish(self) -> None:
        self.service("/es", "service page (es)")


class PartnerApi(HttpUser):
    weight = 15
    wait_time = between(0.5, 3)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {PLAN['hsds_token']}"

    @task(3)
    def search(self) -> None:
        with self.client.get(
            rng.choice(PLAN["hsds_paths"]), name="HSDS API search", catch_response=True
        ) as response:
            judge(response, "HSDS API search", (200,))

    @task(1)
    def service(self) -> None:
        path = f"/api/hsds/services/{rng.choice(PLAN['services'])}"
        with self.client.get(path, name="HSDS API service", catch_response=True) as response:
            judge(response, "HSDS API service", (200,))


class ResidentAskingForHelp(HttpUser):
    weight = 15
    wait_time = between(2, 8)

    @task
    def ask(self) -> None:
        number = next(phone_numbers)
        phone = f"{200 + number // 10_000:03d}{number % 10_000:04d}"
        body = {
            "name": f"Load resident {number}",
            "phone": f"(859) {phone[:3]}-{phone[3:]}",
            "contact_method": rng.choice(("phone", "text", "text")),
            "language": rng.choices(("en", "es"), weights=(9, 1))[0],
            "message_language": rng.choice(("en", "en", "en", "es")),
            "zip_code": rng.choice(PLAN["zip_codes"]),
            "program": rng.choice(("qhp", "medicaid_kchip", "not_sure")),
            "consent": True,
        }
        headers = {
            "Authorization": f"Bearer {PLAN['intake_token']}",
            "X-Forwarded-For": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}",
        }
        attempts: list[int] = []
        request_id = ""
        # A request whose app server died before answering is sent again: the server either made it
        # (the retry is then refused as a duplicate, 409) or did not (the retry makes it).
        for _attempt in range(RETRIES):
            with self.client.post(
                "/api/ondemand/help-requests",
                json=body,
                headers=headers,
                name="help request (API)",
                catch_response=True,
            ) as response:
                attempts.append(response.status_code)
                expected = (201, 409) if len(attempts) > 1 else (201,)
                if judge(response, "help request (API)", expected):
                    if response.status_code == 201:
                        request_id = response.json()["id"]
                    break
                lost = response.status_code == 0 or BALANCER_ERROR in response.headers
                if not lost:
                    break
            gevent.sleep(1)
        record(kind="help request outcome", phone=f"+1859{phone}", attempts=attempts, id=request_id)


class TextMessages:
    """The offers and passcodes the file SMS backend has written, read once each, shared by all helpers."""

    seen: set[str] = set()
    offers: deque[tuple[str, str]] = deque()
    passcodes: dict[str, list[tuple[float, str]]] = {}
    last_scan = 0.0

    @classmethod
    def scan(cls) -> None:
        if time.monotonic() - cls.last_scan < 0.5:
            return
        cls.last_scan = time.monotonic()
        try:
            names = os.listdir(SMS_FOLDER)
        except FileNotFoundError:
            return
        for name in names:
            if name in cls.seen:
                continue
            cls.seen.add(name)
            try:
                written = (SMS_FOLDER / name).stat().st_mtime
                message = json.loads((SMS_FOLDER / name).read_text())
            except (OSError, ValueError):
                cls.seen.discard(name)  # still being written: read it next time
                continue
            link = OFFER_LINK.search(message["body"])
            if link:
                cls.offers.append((message["to"], link.group(1)))
            elif "passcode" in message["body"].lower() or "código" in message["body"].lower():
                code = PASSCODE.search(message["body"])
                if code:
                    cls.passcodes.setdefault(message["to"], []).append((written, code.group(1)))

    @classmethod
    def passcode_after(cls, phone: str, moment: float, wait: float) -> str | None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            cls.scan()
            # The newest one: a helper who accepted earlier offers has had earlier passcodes.
            codes = sorted(item for item in cls.passcodes.get(phone, []) if item[0] >= moment)
            if codes:
                return codes[-1][1]
            gevent.sleep(0.5)
        return None


class Helper(HttpUser):
    weight = 10
    wait_time = between(1, 4)

    @task
    def answer_an_offer(self) -> None:
        TextMessages.scan()
        if not TextMessages.offers:
            return
        phone, path = TextMessages.offers.popleft()
        if rng.random() < 0.25:
            return  # not every offer is answered: some expire, and their requests go to Mass rounds
        self.client.cookies.clear()
        with self.client.get(path, name="offer link", catch_response=True) as response:
            if not judge(response, "offer link", (200,)):
                return
            token = CSRF.search(response.text)
            can_accept = f"{path}accept/" in response.text
        if token is None or not can_accept:
            return  # already taken, rescinded or expired: the page says so
        accepted_at = time.time() - 1
        with self.client.post(
            f"{path}accept/",
            data={"csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{self.host}{path}"},
            name="offer accept",
            catch_response=True,
        ) as response:
            # 409: another helper of the Mass round was first, or the offer expired meanwhile.
            if not judge(response, "offer accept", (200, 409)) or response.status_code == 409:
                return
            token = CSRF.search(response.text)
        code = TextMessages.passcode_after(phone, accepted_at, wait=20)
        if code is None or token is None:
            record(kind="passcode not received")
            return
        with self.client.post(
            f"{path}passcode/",
            data={"csrfmiddlewaretoken": token.group(1), "code": code},
            headers={"Referer": f"{self.host}{path}passcode/"},
            name="passcode",
            catch_response=True,
        ) as response:
            judge(response, "passcode", (200,))


@events.quitting.add_listener
def close_events(**_kwargs: Any) -> None:
    EVENTS.close()
