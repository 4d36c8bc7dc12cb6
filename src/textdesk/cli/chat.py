"""A terminal phone: text a running sandbox textdesk from the command line.

Each line read is sent through the server's phone simulator (``POST
/simulator/send``), so it takes the same signed-webhook path as a real text; the
replies textdesk sends are polled from ``/simulator/messages.json`` and printed.

Interactive use prints replies whenever they come.  Piped input (no tty) waits
for the replies to each line before sending the next, so a script reads like
the conversation it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from rich.console import Console
from rich.text import Text

from textdesk.domain.phones import InvalidPhone, to_e164

__all__ = ["ChatError", "chat", "run_chat"]

QUIT = "/quit"
_INDENT = " " * len("bot › ")


class ChatError(Exception):
    """The terminal phone cannot talk to the server; the message says what to do."""


@dataclass
class _Phone:
    client: httpx.AsyncClient
    console: Console
    phone: str
    number: str
    cursor: int
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, body: str) -> bool:
        response = await self.client.post(
            "/simulator/send",
            data={"phone": self.phone, "number": self.number, "body": body},
            headers={"Accept": "application/json"},
        )
        if response.is_error:
            self.console.print(Text(f"not sent: {_detail(response)}", style="red"))
            return False
        return True

    async def poll_once(self) -> None:
        answer = await self.client.get(
            "/simulator/messages.json", params={"phone": self.phone, "after": self.cursor}
        )
        answer.raise_for_status()
        payload = answer.json()
        for message in payload["messages"]:
            self.show(message)
            self.arrived.set()
        self.cursor = int(payload["next"])

    async def poll_forever(self, interval: float) -> None:
        while True:
            try:
                await self.poll_once()
            except httpx.HTTPError as exc:
                self.console.print(Text(f"polling failed: {exc!r}", style="yellow"))
            await asyncio.sleep(interval)

    def show(self, message: dict[str, Any]) -> None:
        line = Text("bot › ", style="bold cyan")
        sender = message.get("from")
        if sender and sender != self.number:
            line.append(f"(from {sender}) ", style="dim")
        # Continuation lines are indented under the text, like a chat bubble; the
        # terminal wraps long lines (soft_wrap), so a piped transcript has no extra breaks.
        first, *rest = str(message.get("body", "")).split("\n")
        line.append("\n".join([first, *(f"{_INDENT}{r}" if r else "" for r in rest)]))
        self.console.print(line, soft_wrap=True)
        for url in message.get("media_urls", []):
            self.console.print(Text(f"{_INDENT}📎 {url}", style="dim"), soft_wrap=True)

    async def settle(self, *, first_within: float, quiet: float) -> None:
        """Wait for a reply (``arrived`` cleared before sending), then for a quiet spell."""
        try:
            async with asyncio.timeout(first_within):
                await self.arrived.wait()
        except TimeoutError:
            self.console.print(Text("(no reply yet)", style="dim"))
            return
        # Replies come in bursts (a topic may send several texts); wait the burst out.
        while True:
            self.arrived.clear()
            try:
                async with asyncio.timeout(quiet):
                    await self.arrived.wait()
            except TimeoutError:
                return


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail or response.text.strip() or f"HTTP {response.status_code}")


async def _connect(client: httpx.AsyncClient, phone: str) -> dict[str, Any]:
    try:
        answer = await client.get("/simulator/messages.json", params={"phone": phone})
    except httpx.HTTPError as exc:
        raise ChatError(f"cannot reach textdesk at {client.base_url}: {exc!r}") from exc
    if answer.status_code == 404:
        raise ChatError(
            f"{client.base_url} has no phone simulator: is it a demo install (`textdesk "
            "demo seed` in its folder) running without TWILIO_ACCOUNT_SID?"
        )
    answer.raise_for_status()
    payload: dict[str, Any] = answer.json()
    return payload


def _read_in_background(lines: TextIO) -> asyncio.Queue[str]:
    """Lines of ``lines`` as they come ("" at the end), read by a daemon thread.

    A thread, so replies keep printing while we wait for the keyboard; a daemon,
    so Ctrl-C is not held up by a ``readline`` that never returns.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = lines.readline()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the chat is over and its loop closed
                return
            if not line or line.strip() == QUIT:
                return

    threading.Thread(target=pump, name="chat-stdin", daemon=True).start()
    return queue


async def chat(
    *,
    url: str,
    phone: str,
    number: str | None,
    lines: TextIO,
    console: Console,
    wait: bool,
    reply_timeout: float = 10.0,
    quiet: float = 0.8,
    poll_interval: float = 0.3,
) -> None:
    """Send each line of ``lines`` as a text from ``phone``; print textdesk's replies.

    ``wait`` makes each line wait for its replies (for piped input).  Stops at
    end of input or ``/quit``.  Raises :class:`ChatError` when the server is not a
    sandbox textdesk or has no number to text.
    """
    try:
        phone = to_e164(phone)
        number = to_e164(number) if number else None
    except InvalidPhone as exc:
        raise ChatError(str(exc)) from exc
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=20.0) as client:
        hello = await _connect(client, phone)
        number = number or next(iter(hello.get("numbers", [])), None)
        if number is None:
            raise ChatError("textdesk has no conversational number; run `textdesk demo seed`")
        state = _Phone(client, console, phone, number, cursor=int(hello["next"]))
        console.print(
            Text(f"{phone} → {number}.  Type a text; {QUIT} or end of input leaves.", style="dim")
        )
        poller = asyncio.create_task(state.poll_forever(poll_interval))
        queue = _read_in_background(lines)
        try:
            while True:
                line = await queue.get()
                if not line or line.strip() == QUIT:
                    break
                body = line.rstrip("\r\n")
                if not body.strip():
                    continue
                if wait:
                    console.print(Text("you › ", style="bold green") + Text(body))
                state.arrived.clear()
                if await state.send(body) and wait:
                    await state.settle(first_within=reply_timeout, quiet=quiet)
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller


def run_chat(*, url: str, phone: str, number: str | None) -> int:
    """The ``textdesk chat`` command: stdin to texts, replies to stdout; the exit code."""
    console = Console(highlight=False)
    try:
        asyncio.run(
            chat(
                url=url,
                phone=phone,
                number=number,
                lines=sys.stdin,
                console=console,
                wait=not sys.stdin.isatty(),
            )
        )
    except ChatError as exc:
        Console(stderr=True).print(Text(str(exc), style="red"))
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
