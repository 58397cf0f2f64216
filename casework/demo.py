"""``flask --app casework demo``: a demo district shaped like the real one.

9 zones, 93 compounds and 1,245 structures (530 illegal structures, 715 sheds) in every state.
Every case is driven through the real operations with the clock set back, so its history,
hash chain, attachments and deadlines are exactly what ten weeks of real use would leave.
The demo campaign started ten weeks ago and ends in eight: some zones are ahead of its plan
and some at risk of missing it. Owners are plainly fictitious (演示户主-0001, phone 000-…): no
real personal data.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import current_app
from sqlalchemy import func, select

from casework import clock
from casework.accounts.models import Role, User
from casework.accounts.operations import create_user, get_or_create_company
from casework.campaign.operations import set_campaign
from casework.campaign.queries import clearable_and_closed
from casework.campaign.schemas import CampaignPut, MilestoneIn, ZonePlanIn
from casework.cases import operations as case_ops
from casework.cases.models import Case, CaseKind
from casework.evidence import samples
from casework.evidence.models import AttachmentKind
from casework.evidence.operations import attach
from casework.extensions import db
from casework.places.models import Compound, Zone
from casework.places.operations import create_compound, create_zone
from casework.workorders import operations as workorder_ops
from casework.workorders.models import WorkOrderKind

ZONE_NAMES = ["东风片区", "新华片区", "胜利片区", "建设片区", "和平片区", "解放片区", "红旗片区",
              "光明片区", "友谊片区"]
COMPOUND_COUNTS = [11, 11, 11, 10, 10, 10, 10, 10, 10]  # 93 in all
ILLEGAL, SHEDS = 530, 715
COMPANIES = ["安居物业", "宏达物业", "祥和物业"]

# Where the demo campaign stands after ten weeks: most structures done, every state present.
TARGETS = [("closed", 0.52), ("demolished", 0.10), ("negotiated", 0.12),
           ("enforced", 0.03), ("reopened", 0.02), ("ownership_verified", 0.08),
           ("identified", 0.07), ("disputed", 0.04), ("dismissed", 0.02)]
CAMPAIGN_DAYS = 70
CAMPAIGN_WEEKS_LEFT = 8
CAMPAIGN_NAME = "老旧小区违建和配建棚厦清理专项行动"
# Zones do not keep one pace, in the demo as in the real campaign: the first three are ahead of
# the plan and speeding up, the last three behind it and slowing down (at risk of missing the
# end date), the rest on track. (share of closed cases, lean of their dates toward recent weeks)
ZONE_PACE = [(1.45, 1.8)] * 3 + [(1.15, 1.4)] * 3 + [(0.6, 0.6)] * 3


@dataclass
class Cast:
    officers: dict[int, list[User]]
    supervisors: dict[int, User]
    companies: list[User]


def demo_is_loaded() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Case)) or 0) > 0


def _users(password: str, zones: list[Zone]) -> tuple[Cast, list[User]]:
    everyone = [create_user("admin", password, Role.ADMIN, display_name="系统管理员")]
    everyone.append(create_user("district", password, Role.SUPERVISOR, display_name="区指挥部"))
    officers: dict[int, list[User]] = {}
    supervisors: dict[int, User] = {}
    for n, zone in enumerate(zones, start=1):
        supervisors[zone.id] = create_user(f"sup{n}", password, Role.SUPERVISOR,
                                           display_name=f"{zone.name}指挥部", zones=[zone])
        officers[zone.id] = [create_user(f"officer{n}{letter}", password, Role.OFFICER,
                                         display_name=f"{zone.name}包片干部{letter.upper()}",
                                         zones=[zone]) for letter in "ab"]
        everyone += [supervisors[zone.id], *officers[zone.id]]
    company_users = [create_user(f"company{n}", password, Role.COMPANY, display_name=name,
                                 company=get_or_create_company(name))
                     for n, name in enumerate(COMPANIES, start=1)]
    everyone += company_users
    return Cast(officers, supervisors, company_users), everyone


def _attach(case: Case, user: User, kind: AttachmentKind, at: datetime) -> None:
    with clock.frozen(at):
        if kind in (AttachmentKind.BEFORE_PHOTO, AttachmentKind.AFTER_PHOTO):
            data, content_type, name = samples.png(f"{case.ref}-{kind.value}"), "image/png", "photo.png"
        else:
            data, content_type, name = samples.pdf(f"{case.ref} {kind.value}"), "application/pdf", "doc.pdf"
        attach(case, user, data, content_type, kind, name)


def _fire(case: Case, user: User, trigger: str, at: datetime, **fields) -> None:
    with clock.frozen(at):
        case_ops.fire_trigger(case, user, trigger, expected_version=case.version, **fields)


class _Timeline:
    """Hands out increasing times for one case's steps, ending before now."""

    def __init__(self, rng: random.Random, steps: int, now: datetime, recent: bool,
                 pace: float = 1.0) -> None:
        if steps == 0:
            # Structures still only surveyed were mostly found recently; a 7-day deadline
            # makes some of them overdue, as on a real board.
            self.at = now - timedelta(days=rng.uniform(0.1, 12))
        elif recent:
            # Open cases moved recently: their last step lands in the past week or so.
            self.at = now - timedelta(days=steps * 2.1 + rng.uniform(0, 6))
        else:
            # Finished cases are spread over the campaign; ``pace`` leans a zone's toward the
            # recent weeks (above 1: it is speeding up) or the early ones (below 1: slowing).
            # Paths with a waiting period (enforcement, reopening) need more room.
            span = steps * (3.0 if steps <= 7 else 4.5) + 0.5
            share = rng.random() ** pace
            self.at = now - timedelta(days=span + share * max(CAMPAIGN_DAYS - span, 0.5))
        self.limit = now - timedelta(minutes=1)
        self.rng = rng

    def next(self, min_days: float = 0.2, max_days: float = 4.0) -> datetime:
        step = timedelta(days=self.rng.uniform(min_days, max_days), minutes=self.rng.randint(1, 50))
        self.at = min(self.at + step, self.limit)  # nothing happens in the future
        return self.at


def _clear_debris(case: Case, officer: User, company_user: User, rng: random.Random,
                  time: "_Timeline", finish: bool) -> None:
    """A company clears the debris: issued, accepted, and (when finished) completed with a
    photo and verified, through the same operations the API uses."""
    at = time.next(0.05, 0.2)
    with clock.frozen(at):
        due = at.astimezone(clock.local_zone()).date() + timedelta(days=rng.randint(2, 5))
        order = workorder_ops.create_workorder(case, officer, company_user.company_id,
                                               WorkOrderKind.CLEAR_DEBRIS, due, "清运建筑垃圾")
    with clock.frozen(time.next(0.05, 0.3)):
        workorder_ops.fire_trigger(order, company_user, "accept", expected_version=order.version)
    if not finish:
        return
    with clock.frozen(time.next(0.1, 0.5)):
        attach(case, company_user, samples.png(f"{case.ref}-debris"), "image/png",
               AttachmentKind.AFTER_PHOTO, "debris.png", workorder_id=order.id)
        workorder_ops.fire_trigger(order, company_user, "complete", expected_version=order.version)
    with clock.frozen(time.next(0.05, 0.3)):
        workorder_ops.fire_trigger(order, officer, "verify", expected_version=order.version)


STEPS = {"identified": 0, "ownership_verified": 2, "negotiated": 4, "demolished": 6,
         "closed": 7, "disputed": 3, "dismissed": 2, "enforced": 8, "reopened": 9}


def _drive(case: Case, target: str, cast: Cast, rng: random.Random, time: _Timeline) -> None:
    officer = case.officer
    supervisor = cast.supervisors[case.zone_id]
    if target == "identified":
        return
    if target == "dismissed":
        _attach(case, officer, AttachmentKind.OWNERSHIP_DOC, time.next())
        _fire(case, supervisor, "dismiss", time.next(), note="房产证齐全，属合法建筑")
        return
    _attach(case, officer, AttachmentKind.OWNERSHIP_DOC if not case.owner_unknown
            else AttachmentKind.NOTICE, time.next())
    _fire(case, officer, "verify_ownership", time.next(), note="产权人身份已核实")
    if target == "ownership_verified":
        return
    if target == "disputed":
        _fire(case, officer, "dispute", time.next(), note="产权人对面积有异议")
        return
    _attach(case, officer, rng.choice([AttachmentKind.AGREEMENT, AttachmentKind.NOTICE]), time.next())
    at = time.next()
    enforced = target == "enforced"
    deadline_days = rng.randint(3, 6) if enforced else rng.randint(10, 30)
    deadline = at.astimezone(clock.local_zone()).date() + timedelta(days=deadline_days)
    _fire(case, officer, "negotiate", at, note="已签订自拆协议" if not enforced else "已下达限期拆除通知书",
          deadline=deadline)
    if target == "negotiated":
        return
    if enforced:
        at = time.next(deadline_days + 1, deadline_days + 3)
        _fire(case, supervisor, "approve_enforcement", at, note="逾期未拆，批准强制拆除")
        _attach(case, officer, AttachmentKind.AFTER_PHOTO, time.next(0.2, 1))
        _fire(case, officer, "demolish", time.next(0.1, 0.5), method="enforced", note="依法强制拆除")
        return
    _attach(case, officer, AttachmentKind.BEFORE_PHOTO, time.next(0.2, 1))
    _attach(case, officer, AttachmentKind.AFTER_PHOTO, time.next(0.5, 3))
    method = rng.choice(["self", "company"])
    _fire(case, officer, "demolish", time.next(0.1, 0.3), method=method, note="已拆除")
    if method == "company":
        _clear_debris(case, officer, rng.choice(cast.companies), rng, time,
                      finish=target != "demolished")
    if target == "demolished":
        return
    _fire(case, supervisor, "close", time.next(0.5, 2.5), note="验收合格")
    if target == "reopened":
        at = time.next(1, 3)
        _fire(case, supervisor, "reopen", at, note="复查发现残留，重新施工",
              deadline=at.astimezone(clock.local_zone()).date() + timedelta(days=rng.randint(20, 40)))


def load_demo(password: str, seed: int = 2026, structures: int = ILLEGAL + SHEDS,
              progress=None) -> list[User]:
    rng = random.Random(seed)
    now = clock.now()
    zones = [create_zone(f"Z{n}", name) for n, name in enumerate(ZONE_NAMES, start=1)]
    compounds: list[Compound] = []
    for zone, count in zip(zones, COMPOUND_COUNTS):
        for n in range(1, count + 1):
            compounds.append(create_compound(zone.id, f"{zone.name[:2]}小区{n:02d}",
                                             f"{zone.name[:2]}路{rng.randint(1, 300)}号"))
    cast, users = _users(password, zones)
    illegal = round(structures * ILLEGAL / (ILLEGAL + SHEDS))
    kinds = [CaseKind.ILLEGAL_STRUCTURE] * illegal + [CaseKind.SHED] * (structures - illegal)
    rng.shuffle(kinds)
    names, weights = zip(*TARGETS)
    paces = {zone.id: ZONE_PACE[n % len(ZONE_PACE)] for n, zone in enumerate(zones)}
    zone_weights = {zone_id: [w * closed_share if name == "closed" else w
                              for name, w in TARGETS]
                    for zone_id, (closed_share, _) in paces.items()}
    # Where each structure stands, as the officers' phones gave it: a position around its
    # compound's centre (the district lies around 41.80 N, 123.43 E). A generator of its own,
    # so that the rest of the demo stays as it was.
    where = random.Random(seed + 1)
    centres = {compound.id: (41.78 + where.uniform(0, 0.05), 123.40 + where.uniform(0, 0.07))
               for compound in compounds}
    for number, kind in enumerate(kinds, start=1):
        compound = rng.choice(compounds)
        lat, lon = centres[compound.id]
        officer = rng.choice(cast.officers[compound.zone_id])
        target = rng.choices(names, zone_weights[compound.zone_id])[0]
        unknown = rng.random() < 0.05
        time = _Timeline(rng, STEPS[target], now,
                         recent=target not in ("closed", "dismissed", "enforced", "reopened"),
                         pace=paces[compound.zone_id][1])
        with clock.frozen(time.at):
            case = case_ops.create_case(officer, {
                "kind": kind, "compound_id": compound.id,
                "address": f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元",
                "description": "楼间私搭棚厦" if kind is CaseKind.SHED else "院内违章加盖",
                "area_m2": round(rng.uniform(3, 60), 1),
                "difficulty": rng.choices([1, 2, 3, 4, 5], [3, 4, 3, 2, 1])[0],
                "owner_name": None if unknown else f"演示户主-{number:04d}",
                "owner_phone": None if unknown else f"000-0000-{number:04d}",
                "owner_id_number": None if unknown else f"DEMO{number:010d}",
                "owner_unknown": unknown,
                "lat": round(lat + where.uniform(-0.0008, 0.0008), 6),
                "lon": round(lon + where.uniform(-0.001, 0.001), 6),
                "accuracy_m": round(where.uniform(4, 30), 1),
            })
        _drive(case, target, cast, rng, time)
        if number % 100 == 0:
            db.session.commit()
            if progress:
                progress(number)
    _plan_campaign(users[1], zones, now)
    db.session.commit()
    return users


def _plan_campaign(district: User, zones: list[Zone], now: datetime) -> None:
    """The campaign as the district command drew it up on its first day (ten weeks ago, to end
    in eight weeks), then adjusted five weeks in: a milestone for the first zone and a target
    for the fifth that counts the structures its survey has still to record."""
    today = now.astimezone(clock.local_zone()).date()
    start = today - timedelta(days=CAMPAIGN_DAYS)
    end = today + timedelta(weeks=CAMPAIGN_WEEKS_LEFT)
    first_day = datetime.combine(start, datetime.min.time(), clock.local_zone()) + timedelta(hours=9)
    with clock.frozen(first_day):
        set_campaign(district, CampaignPut(name=CAMPAIGN_NAME, start=start, end=end))
    clearable = clearable_and_closed([zones[0].id, zones[4].id])
    adjusted = [
        ZonePlanIn(zone_id=zones[0].id, milestones=[MilestoneIn(
            date=start + timedelta(weeks=9), cumulative_done=clearable.get(zones[0].id, (0, 0))[0] // 2)]),
        ZonePlanIn(zone_id=zones[4].id, target=clearable.get(zones[4].id, (0, 0))[0] + 5),
    ]
    with clock.frozen(first_day + timedelta(weeks=5)):
        set_campaign(district, CampaignPut(name=CAMPAIGN_NAME, start=start, end=end,
                                           zones=adjusted))


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has cases.")
@click.option("--password", envvar="CASEWORK_DEMO_PASSWORD",
              help="Password for every demo user (default: a new random one, printed).")
@click.option("--structures", type=click.IntRange(1, 100_000), default=ILLEGAL + SHEDS,
              show_default=True, help="How many structures to load.")
def demo_command(if_empty: bool, password: str | None, structures: int) -> None:
    """Load a demo district: 9 zones, 93 compounds, 1,245 structures, users of every role."""
    if demo_is_loaded():
        if if_empty:
            click.echo("The database already has cases; demo not loaded.")
            return
        raise click.UsageError("the database already has cases; the demo loads into an empty one")
    password = password or secrets.token_urlsafe(9)
    with click.progressbar(length=structures, label="Loading demo structures") as bar:
        done = [0]

        def progress(number: int) -> None:
            bar.update(number - done[0])
            done[0] = number

        users = load_demo(password, structures=structures, progress=progress)
        bar.update(structures - done[0])
    click.echo(f"\nDemo district loaded into {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}.")
    click.echo(f"Campaign {CAMPAIGN_NAME}: started {CAMPAIGN_DAYS // 7} weeks ago, ends in "
               f"{CAMPAIGN_WEEKS_LEFT} weeks (flask --app casework report progress).")
    click.echo(f"Every demo user has the password: {password}")
    for role in Role:
        names = [u.username for u in users if u.role is role]
        click.echo(f"  {role.value:<10} {', '.join(names)}")
