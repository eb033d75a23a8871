"""A smishing campaign the 2012 training data lacks, written from templates (2024-2026 style).

Five families (parcel redelivery fees, toll balances, bank lock-outs, "hi mum", crypto
airdrops), each with a short link, filled in deterministically from a seed: the same
``campaign()`` every run, so benchmarks compare like with like.
"""

from __future__ import annotations

import random

_COURIERS = ["Royal Mail", "Evri", "DPD", "USPS", "DHL", "Parcelforce", "UPS", "InPost"]
_BANKS = ["Barclays", "HSBC", "Lloyds", "Chase", "Santander", "NatWest", "Monzo", "Revolut"]
_TOLLS = ["E-ZPass", "FasTrak", "SunPass", "Dart Charge", "TxTag", "Toll Services"]
_COINS = ["ETH", "SOL", "USDT", "BTC", "PEPE", "ARB"]
_SHORTENERS = ["bit.ly", "tinyurl.com", "t.ly", "is.gd", "rb.gy", "cutt.ly", "shorturl.at"]

_TEMPLATES = {
    "parcel": [
        "{courier}: your parcel could not be delivered due to an unpaid fee of {fee}. "
        "Reschedule at {link}",
        "{courier}: we attempted delivery of your package today. A {fee} redelivery charge "
        "is due: {link}",
        "Your {courier} parcel is held at our depot. Confirm your address and pay {fee} "
        "within 24h: {link}",
        "{courier} notice: item {ref} awaiting customs payment of {fee}. Pay now {link}",
    ],
    "toll": [
        "{toll}: you have an outstanding toll balance of {fee}. Avoid a late penalty, pay "
        "at {link}",
        "Final notice from {toll}: unpaid toll {fee} on your vehicle. Settle today {link}",
        "{toll} reminder: toll invoice {ref} is overdue ({fee}). Pay online: {link}",
    ],
    "bank": [
        "{bank}: your account has been locked after unusual sign-in activity. Verify your "
        "identity at {link}",
        "{bank} ALERT: a payment of {fee} to a new payee was requested. If this was not "
        "you, cancel at {link}",
        "{bank}: your card has been suspended. Restore access now {link}",
        "We've noticed a new device on your {bank} online banking. Not you? Secure it: {link}",
    ],
    "mum": [
        "Hi mum, I dropped my phone in the sink, this is my new number. Can you text me "
        "back on WhatsApp? {link}",
        "Hey mum its me, new number, phone broke. Need to pay a bill urgently {fee} can "
        "you help? {link}",
        "Hi dad, lost my phone, using a friend's. Can you send {fee} for rent today? "
        "Details {link}",
        "Mum it's me, please save this number, old one is gone. Need a favour x {link}",
    ],
    "crypto": [
        "Congrats! Your wallet is eligible for the {coin} airdrop: {amount} {coin} "
        "unclaimed. Claim at {link}",
        "{coin} airdrop is live! Connect your wallet before it closes to receive "
        "{amount} {coin}: {link}",
        "Your {coin} rewards ({amount} {coin}) expire tonight. Withdraw now {link}",
    ],
}


def _link(rng: random.Random) -> str:
    code = "".join(
        rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        for _ in range(rng.randint(5, 7))
    )
    return f"https://{rng.choice(_SHORTENERS)}/{code}"


def campaign(n: int = 200, seed: int = 2026) -> list[str]:
    """``n`` campaign messages, the families in turn, every field drawn from ``seed``."""
    rng = random.Random(seed)
    families = list(_TEMPLATES)
    texts = []
    for i in range(n):
        template = rng.choice(_TEMPLATES[families[i % len(families)]])
        texts.append(
            template.format(
                courier=rng.choice(_COURIERS),
                bank=rng.choice(_BANKS),
                toll=rng.choice(_TOLLS),
                coin=rng.choice(_COINS),
                fee=rng.choice(["£", "$", "€"]) + f"{rng.randint(1, 4)}.{rng.randint(10, 99)}",
                amount=f"{rng.randint(50, 5000):,}",
                ref=f"{rng.choice('ABCDEFGH')}{rng.randint(100000, 999999)}",
                link=_link(rng),
            )
        )
    return texts
