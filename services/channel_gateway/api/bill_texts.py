"""The words of the customer's bill page, in English and Thai (one table per language)."""

from __future__ import annotations

LANGUAGES = ("en", "th")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your order",
        "bill": "Bill",
        "item": "Item",
        "qty": "Qty",
        "price": "Price",
        "items": "Items",
        "discount": "Discount",
        "shipping": "Shipping",
        "total": "Total",
        "note": "Note from the shop",
        "status": "Status",
        "status_unpaid": "Waiting for payment",
        "status_paid": "Paid, being packed",
        "status_shipped": "Shipped",
        "status_cancelled": "Cancelled",
        "status_cod": "Confirmed: pay the courier on delivery",
        "your_details": "Your details",
        "name": "Full name",
        "phone": "Phone",
        "email": "E-mail (optional)",
        "line1": "House no., street, village",
        "line2": "Sub-district (optional)",
        "city": "District / city",
        "state": "Province",
        "postal_code": "Postcode",
        "how_to_pay": "How would you like to pay?",
        "pay_transfer": "Bank transfer (upload the slip)",
        "pay_promptpay": "PromptPay QR",
        "pay_card": "Credit or debit card",
        "pay_cod": "Cash on delivery",
        "confirm": "Confirm order",
        "transfer_to": "Please transfer the total to",
        "scan_promptpay": "Scan with your banking app to pay",
        "upload_slip": "Upload your payment slip (image or PDF)",
        "send_slip": "Send slip",
        "slip_received": "Slip received: the shop will check it shortly.",
        "pay_by_card": "Pay by card",
        "card_note": "You will pay on the payment provider's secure page.",
        "tracking": "Tracking",
        "carrier_says": "Delivery",
        "track_in_transit": "On its way",
        "track_out_for_delivery": "Out for delivery today",
        "track_delivered": "Delivered",
        "track_exception": "The carrier could not deliver: the shop will contact you",
        "ship_to": "Ship to",
        "expires": "Please pay by",
        "not_found": (
            "This link does not open a bill. It may have expired: ask the shop for a new one."
        ),
        "language": "ภาษาไทย",
    },
    "th": {
        "title": "คำสั่งซื้อของคุณ",
        "bill": "บิล",
        "item": "สินค้า",
        "qty": "จำนวน",
        "price": "ราคา",
        "items": "ค่าสินค้า",
        "discount": "ส่วนลด",
        "shipping": "ค่าจัดส่ง",
        "total": "ยอดรวม",
        "note": "หมายเหตุจากร้าน",
        "status": "สถานะ",
        "status_unpaid": "รอชำระเงิน",
        "status_paid": "ชำระเงินแล้ว กำลังแพ็คสินค้า",
        "status_shipped": "จัดส่งแล้ว",
        "status_cancelled": "ยกเลิกแล้ว",
        "status_cod": "ยืนยันแล้ว: ชำระเงินปลายทางกับพนักงานส่งของ",
        "your_details": "ข้อมูลของคุณ",
        "name": "ชื่อ-นามสกุล",
        "phone": "เบอร์โทรศัพท์",
        "email": "อีเมล (ไม่บังคับ)",
        "line1": "บ้านเลขที่ ถนน หมู่บ้าน",
        "line2": "แขวง/ตำบล (ไม่บังคับ)",
        "city": "เขต/อำเภอ",
        "state": "จังหวัด",
        "postal_code": "รหัสไปรษณีย์",
        "how_to_pay": "เลือกวิธีชำระเงิน",
        "pay_transfer": "โอนเงินผ่านธนาคาร (แนบสลิป)",
        "pay_promptpay": "พร้อมเพย์ QR",
        "pay_card": "บัตรเครดิต/เดบิต",
        "pay_cod": "เก็บเงินปลายทาง",
        "confirm": "ยืนยันคำสั่งซื้อ",
        "transfer_to": "กรุณาโอนยอดรวมไปที่",
        "scan_promptpay": "สแกนด้วยแอปธนาคารเพื่อชำระเงิน",
        "upload_slip": "แนบสลิปการโอนเงิน (รูปภาพหรือ PDF)",
        "send_slip": "ส่งสลิป",
        "slip_received": "ได้รับสลิปแล้ว ร้านค้าจะตรวจสอบโดยเร็ว",
        "pay_by_card": "ชำระด้วยบัตร",
        "card_note": "คุณจะชำระเงินบนหน้าที่ปลอดภัยของผู้ให้บริการชำระเงิน",
        "tracking": "เลขพัสดุ",
        "carrier_says": "การจัดส่ง",
        "track_in_transit": "อยู่ระหว่างขนส่ง",
        "track_out_for_delivery": "กำลังนำส่งวันนี้",
        "track_delivered": "จัดส่งถึงแล้ว",
        "track_exception": "ขนส่งนำส่งไม่สำเร็จ ทางร้านจะติดต่อกลับ",
        "ship_to": "ที่อยู่จัดส่ง",
        "expires": "กรุณาชำระภายใน",
        "not_found": "ลิงก์นี้ไม่ใช่บิลที่ใช้ได้ อาจหมดอายุแล้ว กรุณาขอลิงก์ใหม่จากร้านค้า",
        "language": "English",
    },
}


def language(chosen: str | None, accept_language: str | None) -> str:
    """The page's language: the one chosen (switch or cookie), else the browser's first known."""
    if chosen in LANGUAGES:
        return chosen
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.split("-")[0].lower()))
    for _, code in sorted(ranked, key=lambda r: -r[0]):
        if code in LANGUAGES:
            return code
    return "en"
