"""Customer messages by e-mail, for bills without a chat: the gateway's SMTP server, one
Message-ID per key (so a resend is recognisably the same message)."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import formatdate
from uuid import NAMESPACE_URL, uuid5

from services.channel_gateway.application import ChatMessages
from services.channel_gateway.channels.email.transport import SmtpServer, send_email
from services.channel_gateway.domain import ChatAddress

MESSAGE_IDS = uuid5(NAMESPACE_URL, "https://oms.example/chat-email-ids")


class EmailMessages(ChatMessages):
    """Sends each message as a plain-text e-mail from the shop."""

    def __init__(self, server: SmtpServer, shop_name: str) -> None:
        self.server = server
        self.shop_name = shop_name

    def message(self, to: ChatAddress, text: str, key: str) -> EmailMessage:
        """The e-mail: the text's first line as its subject, the text as its body."""
        message = EmailMessage()
        message["From"] = self.server.sender
        message["To"] = to.handle
        subject = text.splitlines()[0] if text else ""
        message["Subject"] = f"{self.shop_name}: {subject[:120]}"
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = f"<{uuid5(MESSAGE_IDS, key)}@oms>"
        message.set_content(f"{text}\n\n{self.shop_name}\n")
        return message

    async def send(self, to: ChatAddress, text: str, *, key: str) -> str:
        """Hand the e-mail to the SMTP server (off the event loop)."""
        await asyncio.to_thread(send_email, self.server, self.message(to, text, key))
        return f"e-mailed {to.handle}"
