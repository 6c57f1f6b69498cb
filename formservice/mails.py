"""The two mails of a join request (as outbox rows) and the EmailMessage built from a row.

No user input ever goes into a header except the applicant's validated address (To of
the confirmation, Reply-To of the notification); the Subject holds only the network's
name from the site's own YAML. Headers are built with the `default` policy, which
refuses CR/LF in header values. The notification's HTML part escapes every value.
"""

import html
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, parseaddr
from functools import lru_cache

from babel import Locale

from formservice.i18n import N_, gettext
from formservice.validation import field_label

NOTIFICATION = "notification"
CONFIRMATION = "confirmation"
DIGEST = "digest"
ERASED = "erased"  # to a coordinator: request numbers erased at the applicant's request


def _network_name(network, lang):
    return network.name.get(lang) or next(iter(network.name.values()))


@lru_cache(maxsize=None)
def _language_name(code, lang):
    """The name of language `code` in language `lang` (e.g. "Engels"); a few pairs, looked up once."""
    return Locale.parse(code).get_display_name(lang)


def _answer_text(question, value, lang):
    if question.type == "checkbox":
        return gettext(lang, N_("Yes") if value else N_("No"))
    if question.type == "select":
        for option in question.options:
            if str(option.value) == value:
                return option.label.get(lang) or next(iter(option.label.values()))
    return str(value)


def _rows(network, submission, lang):
    """(label, value, multiline) of everything the applicant sent, in form order."""
    rows = [(field_label("name", network, lang), submission.name, False),
            (field_label("email", network, lang), submission.email, False),
            (field_label("organisation", network, lang), submission.organisation, False),
            (field_label("message", network, lang), submission.message, True)]
    for q in network.join.questions:
        if q.id in submission.answers:
            rows.append((field_label(q.field_name, network, lang),
                         _answer_text(q, submission.answers[q.id], lang), q.type == "textarea"))
    return rows


def notification(network, submission, request_id, applicant_lang, created_at, lang):
    """The coordinator's mail, in the coordinator's language `lang`."""
    name = _network_name(network, lang)
    subject = gettext(lang, N_("New request to join %(network)s"), network=name)
    intro = gettext(lang, N_("Someone has asked to join %(network)s through the website."), network=name)
    language = _language_name(applicant_lang, lang)
    received = created_at.strftime("%Y-%m-%d %H:%M UTC")
    meta = [(gettext(lang, N_("Language of the applicant")), language),
            (gettext(lang, N_("Received")), received),
            (gettext(lang, N_("Request number")), request_id)]
    outro = gettext(lang, N_("Reply to this e-mail to answer the applicant."))
    rows = _rows(network, submission, lang)

    text = [intro, ""]
    for label, value, multiline in rows:
        if multiline and value:
            text += [f"{label}:", value, ""]
        else:
            text.append(f"{label}: {value}")
    text.append("")
    text += [f"{label}: {value}" for label, value in meta]
    text += ["", outro, ""]

    e = html.escape
    cells = "".join(
        f"<tr><th scope=\"row\">{e(label)}</th><td>{e(value).replace(chr(10), '<br>')}</td></tr>"
        for label, value, _ in rows + [(label, value, False) for label, value in meta])
    body_html = (f"<!DOCTYPE html><html lang=\"{e(lang)}\"><head><meta charset=\"utf-8\">"
                 f"<title>{e(subject)}</title></head><body><p>{e(intro)}</p>"
                 f"<table>{cells}</table><p>{e(outro)}</p></body></html>")
    return {"kind": NOTIFICATION, "to_addr": network.contact.email, "reply_to": submission.email,
            "subject": subject, "body": "\n".join(text), "html_body": body_html, "lang": lang}


def digest(network, lang):
    """The head of a coordinator's digest (one mail for the requests past the hourly threshold);
    store.insert_requests appends one `digest_line` per request."""
    name = _network_name(network, lang)
    subject = gettext(lang, N_("New requests to join %(network)s (summary)"), network=name)
    intro = gettext(lang, N_("More requests than usual arrived through the website for %(network)s, so they are "
                             "collected in this mail, one line each. The export has every detail."), network=name)
    return {"kind": DIGEST, "to_addr": network.contact.email, "reply_to": None, "subject": subject,
            "body": intro + "\n\n", "html_body": None, "lang": lang}


def digest_line(row, lang):
    """One request in a digest: when, who, and its number (the export has the rest); a repeat
    names the request it repeats. The request's own number ends the line (erase finds it so)."""
    org = f" ({row['organisation']})" if row["organisation"] else ""
    repeat = ""
    if row.get("repeat_of"):
        repeat = "  " + gettext(lang, N_("(a repeat of request %(id)s, which is unchanged)"), id=row["repeat_of"])
    return f"{row['created_at']:%Y-%m-%d %H:%M} UTC  {row['name']} <{row['email']}>{org}{repeat}  {row['id']}\n"


def erased(network, request_ids, lang):
    """To a coordinator, after an applicant's data was erased: which request numbers to delete
    from their own mailbox. It names no one."""
    name = _network_name(network, lang)
    subject = gettext(lang, N_("Requests to join %(network)s were erased"), network=name)
    text = "\n\n".join([
        gettext(lang, N_("At the applicant's request, their data was erased from the website's join-request "
                         "service. Please delete the mails about these requests to join %(network)s from your "
                         "mailbox, with any copy or export that holds them:"), network=name),
        "\n".join(sorted(request_ids)),
    ]) + "\n"
    return {"kind": ERASED, "to_addr": network.contact.email, "reply_to": None, "subject": subject,
            "body": text, "html_body": None, "lang": lang}


def confirmation(network, submission, lang):
    """The applicant's mail, in their language. It repeats nothing they typed: the service
    must not be usable to send chosen text to someone else's address."""
    name = _network_name(network, lang)
    subject = gettext(lang, N_("We have received your request to join %(network)s"), network=name)
    text = "\n\n".join([
        gettext(lang, N_("Hello,")),
        gettext(lang, N_("Thank you for your request to join %(network)s. We have passed it on to the "
                         "coordinator of the network, %(contact)s, who will contact you."),
                network=name, contact=network.contact.name),
        gettext(lang, N_("Did you not send this request yourself? Then you can ignore this e-mail, or write "
                         "to %(email)s to have your details removed."), email=network.contact.email),
        gettext(lang, N_("Kind regards,")) + "\nKNN Advies",
    ]) + "\n"
    return {"kind": CONFIRMATION, "to_addr": submission.email, "reply_to": network.contact.email,
            "subject": subject, "body": text, "html_body": None, "lang": lang}


def message_id(outbox_id, mail_from, database_tag=""):
    """A Message-ID derived from the outbox row: the same for every (re)delivery of that row, so a
    mail sent again after a crash between the SMTP server's 250 and the commit is recognisably
    the same message. `database_tag` (store.message_id_tag) tells databases apart: the row ids of
    a new database start at 1 again."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "formservice.invalid"
    tag = f".{database_tag}" if database_tag else ""
    return f"<formservice-outbox-{int(outbox_id)}{tag}@{domain}>"


def _address(addr):
    local, _, domain = addr.rpartition("@")
    return Address(username=local, domain=domain)


def build_message(row, mail_from, database_tag=""):
    """The EmailMessage of one outbox row (a mapping with the outbox columns)."""
    msg = EmailMessage(policy=default_policy)
    msg["From"] = mail_from
    msg["To"] = _address(row["to_addr"])
    if row["reply_to"]:
        msg["Reply-To"] = _address(row["reply_to"])
    msg["Subject"] = row["subject"]
    msg["Date"] = format_datetime(row["created_at"].replace(tzinfo=UTC))
    msg["Message-ID"] = message_id(row["id"], mail_from, database_tag)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row["body"])
    if row["html_body"]:
        msg.add_alternative(row["html_body"], subtype="html")
    msg["Content-Language"] = row["lang"]  # after set_content(), which drops Content-* headers
    return msg
