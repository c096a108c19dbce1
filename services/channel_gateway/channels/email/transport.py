"""Shipping confirmations by e-mail through the configured SMTP server (stdlib smtplib)."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from services.channel_gateway.channels.http import Job, PermanentChannelError, TransientChannelError


@dataclass(frozen=True)
class SmtpServer:
    """Where and as whom shipping e-mails are sent."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


def shipping_email(job: Job, sender: str, shop_name: str) -> EmailMessage:
    """The shipping confirmation for one shipment; its Message-ID derives from the delivery."""
    customer = job.order.get("customer") or {}
    # The number the customer knows: the channel's own where the order has one.
    number = job.order.get("channel_order_number") or job.external_id
    message = EmailMessage()
    message["From"] = sender
    message["To"] = customer["email"]
    message["Subject"] = f"Your order {number} has shipped"
    message["Date"] = formatdate(usegmt=True)
    # One id per delivery: a resend after a crash is recognisably the same message.
    message["Message-ID"] = f"<{job.delivery_id}@oms>"
    numbers = job.tracking_numbers()
    carrier = job.details["carrier"]
    service = f" ({job.details['service']})" if job.details.get("service") else ""
    items = "\n".join(f"  {line['quantity']} x {line['sku']}" for line in job.details["lines"])
    message.set_content(
        f"Hello {customer.get('name', '')},\n\n"
        f"good news: your order {number} is on its way with {carrier}{service}.\n\n"
        f"{_tracking_text(numbers)}\n\n"
        f"In this parcel:\n{items}\n\nThank you for your order,\n{shop_name}\n"
    )
    return message


def _tracking_text(numbers: list[str]) -> str:
    """The tracking line: the numbers, or no line's worth of invented ones (withheld)."""
    if not numbers:
        return "We will send tracking details if the carrier gives them."
    return f"Tracking number{'s' if len(numbers) > 1 else ''}: {', '.join(numbers)}"


class EmailClient:
    """Sends shipping confirmations; SMTP 4xx and network trouble are worth a retry."""

    def __init__(self, server: SmtpServer, shop_name: str):
        self.server = server
        self.shop_name = shop_name

    async def deliver(self, job: Job) -> str:
        """Send the shipping confirmation of one shipment."""
        if job.action != "shipment":
            return f"nothing to e-mail for a {job.action}"
        message = shipping_email(job, self.server.sender, self.shop_name)
        await asyncio.to_thread(self._send, message)
        withheld = f"; {job.tracking_withheld}" if job.tracking_withheld else ""
        return f"e-mailed {message['To']}{withheld}"

    def _send(self, message: EmailMessage) -> None:
        send_email(self.server, message)


def send_email(server: SmtpServer, message: EmailMessage) -> None:
    """Hand one message to the SMTP server (blocking); 4xx and network trouble are transient."""
    try:
        with smtplib.SMTP(server.host, server.port, timeout=server.timeout) as smtp:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password or "")
            smtp.send_message(message)
    except smtplib.SMTPResponseException as error:
        kind = TransientChannelError if error.smtp_code < 500 else PermanentChannelError
        raise kind(f"SMTP {error.smtp_code}: {error.smtp_error!r}") from None
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentChannelError(f"SMTP refused {list(error.recipients)}") from None
    except (OSError, smtplib.SMTPException) as error:
        raise TransientChannelError(f"SMTP {type(error).__name__}: {error}") from None
