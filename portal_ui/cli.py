"""The `portal-ui` commands of CONTRACT.md: serve, seed, create-staff, deactivate-staff,
reactivate-staff, import (R32); and notify (R28)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from alembic.util import CommandError as AlembicError
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session

from portal_ui import import_files, imports, notifications, seed, staff
from portal_ui.activity import row_failure_reason
from portal_ui.config import Settings, load_settings
from portal_ui.db import make_engine, migrate
from portal_ui.errors import DomainError, NotFound
from portal_ui.i18n import LANGUAGES, _, current_language
from portal_ui.models import NOTIFICATION_CATEGORIES
from portal_ui.security import PasswordRejected

PROG = "portal-ui"
MAX_SEED_ACCOUNTS = 10_000_000


class CommandError(Exception):
    """A problem already worded for the person at the terminal (one line)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (CONTRACT.md), not the usage block."""

    def error(self, message: str) -> NoReturn:
        hint = _("see '{command} --help'").format(command=self.prog)
        error = _("error")
        self.exit(2, f"{self.prog}: {error}: {message} ({hint})\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status is 0 on success, non-zero with one line on stderr."""
    token = current_language.set(_terminal_language())
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
            if args.command == "seed":
                _check_seed_options(args)
        except SystemExit as stop:  # --help, or a usage error already printed
            return stop.code if isinstance(stop.code, int) else 1
        return _run(args.handler, args)
    finally:
        current_language.reset(token)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Turn the errors a person can fix into one line on stderr."""
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except CommandError as error:
        message = str(error)
    except DomainError as error:
        message = error.describe(_)
    except PasswordRejected as error:
        message = _("Password rejected: {reason}").format(reason=error.describe(_))
    except ValidationError as error:
        message = _settings_problem(error)
    except SQLAlchemyError as error:
        message = _("Database error: {problem}").format(problem=_first_line(error))
    error_word = _("error")
    print(f"{PROG}: {error_word}: {message}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=_("Client portal access for an accounting firm."),
        epilog=_("Configuration comes from the PORTAL_* environment variables."),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help=_("start the web app"), description=_("Start the web app.")
    )
    serve.set_defaults(handler=_serve)
    _add_seed(commands)
    _add_create_staff(commands)
    _add_staff_activation(commands)
    _add_notify(commands)
    _add_import(commands)
    return parser


def _add_seed(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "seed",
        help=_("add demo or synthetic data"),
        description=_("Add a small demo firm, or many synthetic accounts."),
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--demo",
        action="store_true",
        help=_("a small realistic firm; prints the sign-in emails and passwords"),
    )
    what.add_argument(
        "--accounts",
        type=_count,
        metavar="N",
        help=_("N synthetic accounts (about 2 contacts each)"),
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="S",
        help=_("random seed of the synthetic data; the same S gives the same data (default 1)"),
    )
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help=_("with --demo: when the database already has data, print the sign-in and stop"),
    )
    parser.set_defaults(handler=_seed, parser=parser)


def _add_create_staff(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "create-staff",
        help=_("add a team member"),
        description=_("Add a team member who signs in at /login."),
    )
    parser.add_argument("--email", required=True, metavar="E", help=_("sign-in email address"))
    parser.add_argument("--name", required=True, metavar="N", help=_("full name"))
    parser.add_argument(
        "--password",
        required=True,
        metavar="P",
        help=_("at least 10 characters, not the address, not easy to guess"),
    )
    parser.set_defaults(handler=_create_staff)


def _add_staff_activation(commands: argparse._SubParsersAction) -> None:
    """R34: deactivate-staff and reactivate-staff."""
    for name, handler, summary, description in (
        (
            "deactivate-staff",
            _deactivate_staff,
            _("stop a team member from signing in"),
            _("End a team member's sessions at once and stop them from signing in."),
        ),
        (
            "reactivate-staff",
            _reactivate_staff,
            _("let a deactivated team member sign in again"),
            _("Let a deactivated team member sign in again with their password."),
        ),
    ):
        parser = commands.add_parser(name, help=summary, description=description)
        parser.add_argument(
            "--email", required=True, metavar="E", help=_("the team member's email address")
        )
        parser.set_defaults(handler=handler)


def _add_notify(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "notify",
        help=_("email a notification to an account's clients"),
        description=_(
            "Email a system notification to the addresses of an account with Notify and the "
            "category on; addresses still pending activation also get a fresh activation link."
        ),
    )
    parser.add_argument("--account", required=True, type=int, metavar="ID", help=_("account id"))
    parser.add_argument(
        "--category",
        required=True,
        choices=NOTIFICATION_CATEGORIES,
        metavar="NAME",
        help=_("one of: {names}").format(names=", ".join(NOTIFICATION_CATEGORIES)),
    )
    parser.add_argument("--subject", required=True, metavar="S", help=_("the email's subject"))
    parser.add_argument(
        "--body-file", required=True, metavar="F", help=_("a text file with the body ('-': stdin)")
    )
    parser.set_defaults(handler=_notify)


def _add_import(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import",
        help=_("import accounts and contacts from a CSV file"),
        description=_(
            "Import accounts, contacts and their addresses from a CSV file (one row per "
            "address of a contact on an account): print the preview, then run the import and "
            "print its report."
        ),
    )
    parser.add_argument("file", metavar="FILE", help=_("the CSV file"))
    parser.add_argument(
        "--as",
        dest="member",
        required=True,
        metavar="E",
        help=_("the email address of the team member the import is made for"),
    )
    parser.add_argument(
        "--send-invitations",
        action="store_true",
        help=_("invite the addresses the file gives Login, as a bulk update does"),
    )
    parser.add_argument(
        "--message",
        default="",
        metavar="TEXT",
        help=_("the personalized message of the invitations"),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help=_("print the preview only; change nothing")
    )
    parser.set_defaults(handler=_import)


def _count(value: str) -> int:
    """argparse type of --accounts: a whole number from 1 to MAX_SEED_ACCOUNTS."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_SEED_ACCOUNTS:
        raise argparse.ArgumentTypeError(
            _("expected a whole number from 1 to {maximum}, got {value!r}").format(
                maximum=MAX_SEED_ACCOUNTS, value=value
            )
        )
    return number


# -- commands ----------------------------------------------------------------------------------


def _serve(_args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = _open_database(settings)
    from portal_ui.app import serve  # the web app is loaded only for this command

    serve(settings, engine)
    return 0


def _create_staff(args: argparse.Namespace) -> int:
    settings = load_settings()
    with _session(settings) as session:
        member = staff.create_team_member(
            session, args.email, args.name, args.password, firm_name=settings.firm_name
        )
        session.commit()
    print(_("Team member {name} <{email}> added.").format(name=member.name, email=member.email))
    print(_("Sign in at {url}").format(url=f"{settings.public_base_url}/login"))
    return 0


def _deactivate_staff(args: argparse.Namespace) -> int:
    with _session(load_settings()) as session:
        member = staff.deactivate(session, args.email)
        session.commit()
    print(
        _("{name} <{email}> is deactivated: signed out everywhere, and cannot sign in.").format(
            name=member.name, email=member.email
        )
    )
    return 0


def _reactivate_staff(args: argparse.Namespace) -> int:
    with _session(load_settings()) as session:
        member = staff.reactivate(session, args.email)
        session.commit()
    print(_("{name} <{email}> can sign in again.").format(name=member.name, email=member.email))
    return 0


def _notify(args: argparse.Namespace) -> int:
    """R28: one notification to an account's recipients for one category."""
    try:
        body = sys.stdin.read() if args.body_file == "-" else Path(args.body_file).read_text()
    except OSError as error:
        raise CommandError(
            _("Cannot read {path}: {problem}").format(path=args.body_file, problem=error.strerror)
        ) from None
    settings = load_settings()
    with _session(settings) as session:
        try:
            report = notifications.notify_account(
                session, settings, args.account, args.category, args.subject, body
            )
        except NotFound:
            raise CommandError(_("No account has the id {id}.").format(id=args.account)) from None
        session.commit()
    print(
        _("Notification queued for {count} addresses ({links} with an activation link).").format(
            count=len(report.sent), links=len(report.with_activation_link)
        )
    )
    for address, reason in report.skipped:
        print(_("Not sent to {address}: {reason}").format(address=address, reason=reason))
    return 0


def _import(args: argparse.Namespace) -> int:
    """R32: the preview, then (without --dry-run) the import job and its report."""
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(
            _("Cannot read {path}: {problem}").format(path=args.file, problem=error.strerror)
        ) from None
    file = import_files.read_csv(data, Path(args.file).name)
    mapping = import_files.guess_mapping(file.headers)
    import_files.check_mapping(mapping)
    options = imports.ImportOptions(mapping, args.send_invitations, args.message)
    settings = load_settings()
    engine = _open_database(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            member = staff.member_by_email(session, args.member)
            if member is None:
                raise CommandError(_(staff.NO_SUCH_MEMBER))
            _print_import(_("Preview"), imports.preview(session, settings, file, options))
            if args.dry_run:
                return 0
            job = imports.start_job(session, member.id or 0, file, options)
            session.commit()
        report = imports.run_job(engine, settings, job.id or 0)
    finally:
        engine.dispose()
    _print_import(_("Report"), imports.ImportCounts.from_report(report), sent=True)
    return 0


def _print_import(title: str, counts: imports.ImportCounts, sent: bool = False) -> None:
    invitations = _("invitations sent") if sent else _("invitations to send")
    print(f"{title}:")
    for label, value in (
        (_("rows"), counts.rows),
        (_("accounts created"), counts.accounts_created),
        (_("accounts updated"), counts.accounts_updated),
        (_("contacts created"), counts.contacts_created),
        (_("contacts updated"), counts.contacts_updated),
        (_("addresses created"), counts.addresses_created),
        (_("addresses updated"), counts.addresses_updated),
        (_("access rows changed"), counts.rows_changed),
        (invitations, counts.invitations),
        (_("already active (no invitation needed)"), counts.already_active),
        (_("invited in the last 24 hours (not invited again)"), counts.recently_invited),
        (_("failing rows"), counts.failures_total),
    ):
        print(f"  {label}: {value}")
    for failure in counts.failures:
        reason = row_failure_reason(failure, _)
        line = failure.get("line")
        print(_("line {line}: {reason}").format(line=line, reason=reason) if line else reason)
    hidden = counts.failures_total - len(counts.failures)
    if hidden > 0:
        print(_("... and {count} more failing rows").format(count=hidden))


def _check_seed_options(args: argparse.Namespace) -> None:
    """The options that only make sense with one kind of seed (a usage error otherwise)."""
    if args.demo and args.seed is not None:
        args.parser.error(_("--seed goes with --accounts, not with --demo"))
    if args.accounts is not None and args.if_empty:
        args.parser.error(_("--if-empty goes with --demo, not with --accounts"))


def _seed(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.demo:
        return _seed_demo(settings, args.if_empty)
    return _seed_accounts(settings, args.accounts, 1 if args.seed is None else args.seed)


def _seed_demo(settings: Settings, if_empty: bool) -> int:
    with _session(settings) as session:
        if if_empty and seed.database_has_data(session):
            print(_("The database already has data; no demo data was added."))
            _print_sign_in(settings, seed.demo_staff_present(session), seed.demo_clients(session))
            return 0
        summary = seed.seed_demo(session, settings)
        session.commit()
    print(_("Demo firm created with {count} accounts.").format(count=summary.accounts))
    _print_sign_in(settings, summary.staff, summary.clients)
    if settings.embedded_smtp:
        print(
            _("The invitations sent are at {url} once the server runs.").format(
                url=f"{settings.public_base_url}/dev/mailbox"
            )
        )
    return 0


def _seed_accounts(settings: Settings, count: int, seed_value: int) -> int:
    with _session(settings) as session:
        started = time.perf_counter()
        summary = seed.seed_accounts(session, settings, count, seed_value)
        session.commit()
        seconds = time.perf_counter() - started
    print(
        _(
            "Added {accounts} accounts, {contacts} contacts, {addresses} addresses, "
            "{rows} access rows, {users} activated clients and {invitations} invitations "
            "in {seconds:.1f} s (seed {seed})."
        ).format(
            accounts=summary.accounts,
            contacts=summary.contacts,
            addresses=summary.addresses,
            rows=summary.access_rows,
            users=summary.portal_users,
            invitations=summary.invitations,
            seconds=seconds,
            seed=seed_value,
        )
    )
    if summary.staff_created:
        _print_sign_in(settings, summary.staff_created, ())
    print(
        _("Activated synthetic clients sign in at {url} with the password {password}").format(
            url=f"{settings.public_base_url}/portal/login", password=summary.client_password
        )
    )
    return 0


def _print_sign_in(
    settings: Settings,
    members: Sequence[seed.Credentials],
    clients: Sequence[seed.Credentials],
) -> None:
    if members:
        print(_("Team members sign in at {url}:").format(url=f"{settings.public_base_url}/login"))
        for member in members:
            print(f"  {member.email}  {member.password}  ({member.name})")
    if clients:
        url = f"{settings.public_base_url}/portal/login"
        print(_("Clients sign in at {url}:").format(url=url))
        for client in clients:
            print(f"  {client.email}  {client.password}  ({client.name})")


# -- the database --------------------------------------------------------------------------------


def _open_database(settings: Settings) -> Engine:
    """An engine on PORTAL_DATABASE_URL with the schema migrated to the newest version."""
    shown = _shown_url(settings.database_url)
    try:
        engine = make_engine(settings.database_url)
    except ImportError as error:
        raise CommandError(
            _("The driver for {url} is not installed: {problem}").format(url=shown, problem=error)
        ) from None
    except ArgumentError as error:
        raise CommandError(
            _("PORTAL_DATABASE_URL is not a database URL: {problem}").format(
                problem=_first_line(error)
            )
        ) from None
    try:
        migrate(engine)
    except (SQLAlchemyError, AlembicError) as error:  # unreachable, or a newer schema
        engine.dispose()
        raise CommandError(
            _("Cannot use the database {url}: {problem}").format(
                url=shown, problem=_first_line(error)
            )
        ) from None
    return engine


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A session on the migrated database; the caller commits."""
    engine = _open_database(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


# -- messages ------------------------------------------------------------------------------------


def _first_line(error: BaseException) -> str:
    """The part of an exception's text a person needs (SQLAlchemy appends SQL and links)."""
    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _settings_problem(error: ValidationError) -> str:
    """The first invalid PORTAL_* variable and why."""
    problem = error.errors()[0]
    names = [str(part) for part in problem.get("loc", ()) if isinstance(part, str)]
    variable = "PORTAL_" + names[0].upper() if names else "PORTAL_*"
    return _("{variable} is invalid: {problem}").format(variable=variable, problem=problem["msg"])


def _terminal_language() -> str | None:
    """The language of the terminal's locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), if ours."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            code = value.split(":")[0].split(".")[0].split("_")[0].lower()
            return code if code in LANGUAGES else None
    return None


if __name__ == "__main__":
    sys.exit(main())
