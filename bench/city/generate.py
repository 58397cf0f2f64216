"""A city in PostgreSQL: a million cases in every state, their hash-chained history, work orders
and a million inbox rows, generated set-based in a few minutes.

The schema is made by the application's own migrations (``flask db upgrade``); every table is
then filled by ``INSERT ... SELECT generate_series`` statements, with the tables' plain indexes
dropped during the load and created again from their own definitions afterwards, and
``VACUUM ANALYZE`` at the end. The city, for N cases (default 1,000,000):

- N / 5,000 zones (200 at a million; at least 9), each with 4 officers and a zone supervisor;
  a district supervisor (every zone), an admin, 40 property companies with a user each;
- N / 50 compounds (20,000) with Chinese names and addresses;
- N cases as in a campaign ten weeks old: 48% closed, 4% dismissed, the rest open (13%
  identified, 10% ownership verified, 14% negotiated, 8% demolished, 3% disputed); 2.1% of the
  open cases (about 10,000 at a million) have a deadline between ten days ago and 20 hours
  from now (what the deadline sweep finds due), the others three to 43 days ahead, so the
  sweep's due set stays the same for two days after generation; Chinese addresses and
  descriptions (棚厦, 违建, 彩钢房 ...); owners' names, phones (000-...) and ID numbers
  (000000...) are fictitious;
- each case's history, 2 to 7 events (about 5.3 per case), chained by SHA-256 exactly as
  ``casework.cases.history.event_hash`` does (the canonical JSON is built in SQL and hashed
  with ``sha256()``), one chain level per statement; a sample of chains is checked with the
  application's own verifier;
- a work order for each case that reached negotiation (70%), in the states its case implies;
  about 1,000 are in the sweep's window;
- N inbox notifications (transitions, reminders, overdue notices, escalations) for the officers
  and supervisors, read except for some of the last three days' (about 2% unread);
- a campaign over every zone; API tokens ``city-token-<username>`` for ``district``,
  ``sup1``, ``officer1`` and ``company1`` (password ``city-password`` for every user).

The generation's time and parameters are kept as the database's comment (JSON), which
``bench.city.run`` reads to decide whether ``--reuse`` may reuse it.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/casework \\
        .venv/bin/python -m bench.city.generate [--cases 1000000] [--name casework_city]
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timezone

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.city.common import app_for, city_url

ZONE_OFFICERS = 4
COMPANIES = 40
TOKEN_USERS = ("district", "sup1", "officer1", "company1")
PASSWORD = "city-password"

# Words of the city, drawn from at random (by hash of the row number, so a city is the same
# each time it is generated with the same size).
ROADS = ["建设路", "解放路", "人民路", "和平街", "新华路", "文化路", "胜利街", "长江路", "黄河路",
         "中山路", "光明街", "幸福路", "朝阳路", "青年路", "滨河路", "东风路", "北陵大街",
         "青年大街", "南京街", "太原街", "铁西路", "兴华街", "保工街", "卫工街"]
COMPOUND_WORDS = ["小区", "花园", "家园", "新村", "公寓", "苑", "里", "佳园", "雅居", "宿舍"]
PLACES = ["楼顶", "一楼院内", "小区空地", "绿化带", "车库前", "楼道口", "单元门旁", "围墙边",
          "阳台外", "自行车棚旁"]
STRUCTURES = ["彩钢房", "砖混结构棚厦", "木结构棚厦", "简易板房", "阳光房", "铁皮棚",
              "储物间", "违建平房", "违建厨房", "鸽子窝棚"]
ACTIONS = ["私搭乱建", "违法搭建", "占地搭建", "擅自扩建", "违规加盖", "圈占公共绿地搭建"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱",
            "高", "林", "何", "郭", "马", "罗"]
GIVEN = ["某华", "某明", "某芳", "某伟", "某强", "某丽", "某军", "某英", "某杰", "某敏"]


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _array(words: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{word}'" for word in words) + "]"


def _pick(words: list[str], expression: str) -> str:
    """A word of ``words`` chosen by the integer ``expression``."""
    return f"({_array(words)})[1 + (({expression}) % {len(words)})]"


# Random numbers in [0, 1) that are the same for a row number each run: a hash of (salt, g).
def _unit(salt: int, g: str = "g") -> str:
    return f"(('x' || substr(md5('{salt}:' || {g}), 1, 8))::bit(32)::bigint / 4294967296.0)"


def _iso(column: str) -> str:
    """``datetime.isoformat(timespec="microseconds")`` of an aware UTC time, in SQL."""
    return (f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') "
            "|| '+00:00'")


# Each state's history: (trigger, from_state, to_state, actor role, note, data kind). The
# main path, and the two that leave it (dismiss from identified, dispute after verification).
CREATE = ("create", None, "identified", "officer", "", "create")
EDIT = ("edit", "identified", "identified", "officer", "", "edit")
VERIFY = ("verify_ownership", "identified", "ownership_verified", "officer",
          "已核实产权，产权人签字确认", "due")
NEGOTIATE = ("negotiate", "ownership_verified", "negotiated", "officer",
             "已送达限期拆除通知书，户主同意自行拆除", "deadline")
WORKORDER = ("workorder_create", "negotiated", "negotiated", "officer",
             "请物业张贴告知书并协助清运", "workorder")
DEMOLISH = ("demolish", "negotiated", "demolished", "officer", "户主已自行拆除棚厦", "method")
CLOSE = ("close", "demolished", "closed", "supervisor", "现场验收合格，场地已恢复", "due")
DISPUTE = ("dispute", "ownership_verified", "disputed", "officer",
           "户主对违建认定有异议，申请复核", "due")
DISMISS = ("dismiss", "identified", "dismissed", "supervisor",
           "经核查有规划许可，属合法建筑，撤销", "due")
HISTORIES = {
    "identified": [CREATE, EDIT],
    "ownership_verified": [CREATE, EDIT, VERIFY],
    "negotiated": [CREATE, EDIT, VERIFY, NEGOTIATE, WORKORDER],
    "demolished": [CREATE, EDIT, VERIFY, NEGOTIATE, WORKORDER, DEMOLISH],
    "closed": [CREATE, EDIT, VERIFY, NEGOTIATE, WORKORDER, DEMOLISH, CLOSE],
    "disputed": [CREATE, EDIT, VERIFY, DISPUTE],
    "dismissed": [CREATE, EDIT, DISMISS],
}
# Share of all cases in each state (cumulative bounds are computed from these).
STATE_SHARES = [("closed", 0.48), ("dismissed", 0.04), ("demolished", 0.08),
                ("negotiated", 0.14), ("disputed", 0.03), ("ownership_verified", 0.10),
                ("identified", 0.13)]
DUE_SHARE = 0.021  # of the open cases: due within the sweep's horizon at generation time
WORKORDER_DUE_SHARE = 0.008  # of the work orders the sweep watches


def _state_case() -> str:
    bounds, total, parts = [], 0.0, []
    for state, share in STATE_SHARES:
        total += share
        bounds.append((state, total))
    for state, bound in bounds[:-1]:
        parts.append(f"WHEN r < {bound:.4f} THEN '{state}'")
    return "CASE " + " ".join(parts) + f" ELSE '{bounds[-1][0]}' END"


def _data_json(kind: str) -> str:
    """The event's data as canonical JSON text (keys sorted, no spaces), in SQL; the same
    text is stored, so the application reads back the dict it hashes."""
    due = f"CASE WHEN c.due_at IS NULL THEN 'null' ELSE to_json({_iso('c.due_at')})::text END"
    if kind == "create":
        return "'{\"compound_id\":' || c.compound_id || ',\"kind\":\"' || c.kind || '\"}'"
    if kind == "edit":
        return "'{\"changed\":{\"owner_name\":null,\"owner_phone\":null}}'"
    if kind == "due":
        return f"'{{\"due_at\":' || {due} || '}}'"
    if kind == "deadline":
        return (f"'{{\"deadline\":\"' || to_char(s.at + interval '14 days', 'YYYY-MM-DD') "
                f"|| '\",\"due_at\":' || {due} || '}}'")
    if kind == "method":
        return f"'{{\"due_at\":' || {due} || ',\"method\":\"self\"}}'"
    if kind == "workorder":
        return ("'{\"company_id\":' || w.company_id || ',\"due_at\":' || "
                f"to_json({_iso('w.due_at')})::text || ',\"kind\":\"' || w.kind || "
                "'\",\"workorder_id\":' || w.id || '}'")
    raise ValueError(kind)


def _canonical(step: tuple, data: str, prev: str) -> str:
    """``event_hash``'s canonical JSON in SQL: keys in sorted order (actor, actor_id, at,
    case_id, data, from_state, note, prev_hash, role, seq, to_state, trigger)."""
    trigger, from_state, to_state, _role, note, _kind = step
    from_json = "null" if from_state is None else json.dumps(from_state)
    return ("'{\"actor\":' || to_json(u.username)::text || ',\"actor_id\":' || u.id || "
            f"',\"at\":\"' || {_iso('s.at')} || '\",\"case_id\":' || c.id || "
            f"',\"data\":' || {data} || "
            f"',\"from_state\":{from_json},\"note\":{json.dumps(note, ensure_ascii=False)},"
            f"\"prev_hash\":\"' || {prev} || '\",\"role\":\"' || u.role || '\",\"seq\":' || "
            f"s.seq || ',\"to_state\":{json.dumps(to_state)},\"trigger\":{json.dumps(trigger)}}}'")


class Generator:
    def __init__(self, url: str, cases: int) -> None:
        self.url = url
        self.cases = cases
        self.zones = max(9, cases // 5000)
        self.compounds = max(93, cases // 50)
        self.parts: dict[str, float] = {}

    # -- steps ---------------------------------------------------------------------------

    def run(self) -> dict:
        start = time.perf_counter()
        self._timed("create database and migrate", self._migrate)
        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        # psycopg itself, without parameters: the statements are full of ':' and '%'.
        with psycopg.connect(conninfo, autocommit=True) as conn:
            self.conn = conn
            self._sql("SET maintenance_work_mem = '512MB'")
            self._sql("SET work_mem = '256MB'")
            self._sql("SET synchronous_commit = off")
            self._timed("people and places", self._people_and_places)
            dropped = self._timed("drop the bulk tables' indexes", self._drop_indexes)
            self._timed(f"{self.cases:,} cases", self._cases)
            self._timed("work orders", self._workorders)
            self._timed("history events (hash-chained)", self._events)
            self._timed("history heads on the cases", self._history_heads)
            self._timed("inbox notifications", self._notifications)
            self._timed("campaign and tokens", self._campaign_and_tokens)
            self._timed("indexes again", lambda: self._create_indexes(dropped))
            self._timed("VACUUM ANALYZE", lambda: self._sql("VACUUM ANALYZE"))
            counts = {table: self._one(f"SELECT count(*) FROM {table}")
                      for table in ("zones", "compounds", "users", "cases", "case_events",
                                    "workorders", "notifications")}
            due = self._one("SELECT count(*) FROM cases WHERE due_at <= now() + interval "
                            "'24 hours' AND state NOT IN ('closed', 'dismissed')")
            head = self._one("SELECT version_num FROM alembic_version")
        self._timed("chain check (sample)", self._verify_sample)
        total = time.perf_counter() - start
        meta = {"cases": self.cases, "head": head, "seconds": round(total, 1),
                "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "parts": {name: round(sec, 1) for name, sec in self.parts.items()},
                "counts": counts, "due_cases": due}
        self._comment(meta)
        return meta

    def _timed(self, name: str, step):
        started = time.perf_counter()
        result = step()
        self.parts[name] = time.perf_counter() - started
        print(f"  {name}: {self.parts[name]:.1f} s", flush=True)
        return result

    def _migrate(self) -> None:
        from flask_migrate import upgrade

        from bench.city.common import drop_database

        drop_database(self.url)
        admin = create_engine(make_url(self.url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{make_url(self.url).database}"'))
        admin.dispose()
        app = app_for(self.url)
        with app.app_context():
            upgrade()
            from casework.extensions import db

            db.engine.dispose()

    def _sql(self, statement: str) -> None:
        self.conn.execute(statement)

    def _one(self, statement: str):
        return self.conn.execute(statement).fetchone()[0]

    def _people_and_places(self) -> None:
        from werkzeug.security import generate_password_hash

        password_hash = generate_password_hash(PASSWORD)
        z, c = self.zones, self.compounds
        self._sql(f"""INSERT INTO zones (code, name)
            SELECT 'Z' || lpad(g::text, 3, '0'), {_pick(ROADS, 'g')} || '片区' || g
            FROM generate_series(1, {z}) g""")
        # Compound k lies in zone 1 + (k - 1) % zones.
        self._sql(f"""INSERT INTO compounds (zone_id, name, address)
            SELECT 1 + (g - 1) % {z},
                   {_pick(ROADS, 'g * 7')} || {_pick(COMPOUND_WORDS, 'g * 13')} || g || '期',
                   '沈河区' || {_pick(ROADS, 'g * 7')} || (g % 400 + 1) || '号'
            FROM generate_series(1, {c}) g""")
        # Users in a known order: officers 1..4z (officer k of zone z is 4(z-1)+k), then the
        # zone supervisors, the district's supervisor, the admin, the companies' users.
        self._sql(f"""INSERT INTO users (username, display_name, password_hash, role, active,
                                         created_at, locale)
            SELECT 'officer' || g, {_pick(SURNAMES, 'g')} || '干部' || g, {_literal(password_hash)}, 'officer', true,
                   now() - interval '80 days', 'zh'
            FROM generate_series(1, {z * ZONE_OFFICERS}) g ORDER BY g""")
        self._sql(f"""INSERT INTO users (username, display_name, password_hash, role, active,
                                         created_at, locale)
            SELECT 'sup' || g, '片区' || g || '指挥部', {_literal(password_hash)}, 'supervisor', true,
                   now() - interval '80 days', 'zh'
            FROM generate_series(1, {z}) g ORDER BY g""")
        self._sql(f"""INSERT INTO users (username, display_name, password_hash, role, active,
                                        created_at, locale)
            VALUES ('district', '区指挥部', {_literal(password_hash)}, 'supervisor', true, now() - interval '80 days',
                    'zh'),
                   ('admin', '系统管理员', {_literal(password_hash)}, 'admin', true, now() - interval '80 days',
                    'zh')""")
        self._sql(f"""INSERT INTO user_zones (user_id, zone_id)
            SELECT id, 1 + (id - 1) / {ZONE_OFFICERS} FROM users WHERE role = 'officer'
            UNION ALL
            SELECT id, id - {z * ZONE_OFFICERS} FROM users
            WHERE role = 'supervisor' AND username <> 'district'""")
        self._sql(f"""INSERT INTO companies (name, contact, created_at)
            SELECT {_pick(ROADS, 'g * 3')} || '物业管理有限公司' || g,
                   '000-0000-' || lpad(g::text, 4, '0'), now() - interval '80 days'
            FROM generate_series(1, {COMPANIES}) g ORDER BY g""")
        self._sql(f"""INSERT INTO users (username, display_name, password_hash, role, company_id,
                                        active, created_at, locale)
            SELECT 'company' || id, name, {_literal(password_hash)}, 'company', id, true,
                   now() - interval '80 days', 'zh'
            FROM companies ORDER BY id""")
        officers = self.conn.execute(
            "SELECT min(id), max(id) FROM users WHERE role = 'officer'").fetchone()
        assert tuple(officers) == (1, z * ZONE_OFFICERS), officers

    def _drop_indexes(self) -> list[str]:
        """The plain (non-constraint) indexes of the tables loaded in bulk: dropped now, built
        again after the load from their own definitions (much faster than keeping them)."""
        rows = self.conn.execute("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = 'public'
              AND i.tablename IN ('cases', 'case_events', 'workorders', 'notifications')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)""").fetchall()
        for name, _definition in rows:
            self._sql(f'DROP INDEX "{name}"')
        return [definition for _name, definition in rows]

    def _create_indexes(self, definitions: list[str]) -> None:
        for definition in definitions:
            self._sql(definition)

    def _cases(self) -> None:
        n, z, c = self.cases, self.zones, self.compounds
        open_ = "s.state NOT IN ('closed', 'dismissed')"
        self._sql(f"""
            INSERT INTO cases (ref, kind, zone_id, compound_id, address, description, area_m2,
                               lat, lon, accuracy_m, difficulty, owner_name, owner_phone,
                               owner_id_number, owner_unknown, state, state_entered_at, due_at,
                               officer_id, survey_ref, created_by_id, version, created_at,
                               updated_at)
            SELECT 'DA-' || extract(year FROM now() AT TIME ZONE 'Asia/Shanghai') || '-'
                       || CASE WHEN g < 1000000 THEN lpad(g::text, 6, '0') ELSE g::text END,
                   CASE WHEN k < 0.43 THEN 'illegal_structure' ELSE 'shed' END,
                   1 + (s.compound - 1) % {z}, s.compound,
                   (g % 30 + 1) || '号楼' || (g % 6 + 1) || '单元' || {_pick(PLACES, 'g / 7')},
                   {_pick(PLACES, 'g / 7')} || {_pick(ACTIONS, 'g / 3')}
                       || {_pick(STRUCTURES, 'g / 11')} || '，约' || round(s.area) || '平方米'
                       || CASE WHEN k < 0.43 THEN '，属违建' ELSE '，系配建棚厦' END,
                   round(s.area::numeric, 1), 41.75 + {_unit(3)} * 0.1, 123.35 + {_unit(4)} * 0.15,
                   5 + g % 30, 1 + g % 5,
                   CASE WHEN unknown THEN NULL ELSE {_pick(SURNAMES, 'g / 5')}
                       || {_pick(GIVEN, 'g / 17')} END,
                   CASE WHEN unknown THEN NULL ELSE '000-0000-' || lpad((g % 10000)::text, 4, '0') END,
                   CASE WHEN unknown THEN NULL ELSE '000000' || lpad(g::text, 12, '0') END,
                   unknown, s.state, s.entered,
                   CASE WHEN NOT ({open_}) THEN NULL
                        WHEN {_unit(5)} < {DUE_SHARE}
                            THEN now() + interval '20 hours' - {_unit(6)} * interval '250 hours'
                        ELSE now() + interval '3 days' + {_unit(6)} * interval '40 days' END,
                   CASE WHEN s.state = 'identified' AND g % 50 = 0 THEN NULL
                        ELSE {ZONE_OFFICERS} * ((s.compound - 1) % {z}) + 1 + g % {ZONE_OFFICERS}
                   END,
                   CASE WHEN g % 5 < 2 THEN 'SV-' || g END,
                   {ZONE_OFFICERS} * ((s.compound - 1) % {z}) + 1 + g % {ZONE_OFFICERS},
                   CASE s.state WHEN 'identified' THEN 2 WHEN 'ownership_verified' THEN 3
                                WHEN 'negotiated' THEN 5 WHEN 'demolished' THEN 6
                                WHEN 'closed' THEN 7 WHEN 'disputed' THEN 4 ELSE 3 END,
                   s.created, s.entered
            FROM (SELECT *, CASE WHEN state = 'identified' THEN created
                                 ELSE created + {_unit(7)} * (now() - created) END AS entered
                  FROM (SELECT *, {_state_case()} AS state
                        FROM (SELECT g, {_unit(1)} AS r, {_unit(2)} AS k, g % 33 = 0 AS unknown,
                                     1 + (g::bigint * 7919) % {c} AS compound, 2 + {_unit(8)} * 60 AS area,
                                     now() - interval '70 days'
                                         + (g::float / {n}) * interval '69 days' AS created
                              FROM generate_series(1, {n}) g) numbered) stated) s
            ORDER BY g""")
        self._sql("""INSERT INTO case_ref_counters (year, last)
            SELECT extract(year FROM now() AT TIME ZONE 'Asia/Shanghai'), count(*) FROM cases""")

    def _step_time(self, k: int) -> str:
        """When the k-th event of case c happened: spread from its creation to the moment it
        entered its state (its last event)."""
        return (f"CASE WHEN c.version = 1 THEN c.created_at ELSE c.created_at + "
                f"(c.state_entered_at - c.created_at) * {k - 1}::float / (c.version - 1) END")

    def _workorders(self) -> None:
        due = (f"CASE WHEN {_unit(11, 'c.id')} < {WORKORDER_DUE_SHARE} "
               f"THEN now() + interval '20 hours' - {_unit(12, 'c.id')} * interval '100 hours' "
               f"ELSE now() + interval '3 days' + {_unit(12, 'c.id')} * interval '30 days' END")
        self._sql(f"""
            INSERT INTO workorders (case_id, zone_id, company_id, kind, state, due_at, note,
                                    created_by_id, version, created_at, updated_at)
            SELECT c.id, c.zone_id, 1 + c.compound_id % {COMPANIES},
                   (ARRAY['post_notice', 'clear_debris', 'restore_site',
                          'assist_demolition'])[1 + c.id % 4],
                   w.state,
                   CASE WHEN w.state IN ('assigned', 'accepted', 'rejected') THEN {due}
                        ELSE w.created + interval '7 days' END,
                   '请物业张贴告知书并协助清运', c.officer_id,
                   CASE w.state WHEN 'assigned' THEN 1 WHEN 'accepted' THEN 2
                                WHEN 'rejected' THEN 3 WHEN 'completed' THEN 3 ELSE 4 END,
                   w.created, w.created
            FROM cases c
            CROSS JOIN LATERAL (
                SELECT {self._step_time(5)} AS created,
                       CASE WHEN c.state = 'closed' THEN 'verified'
                            WHEN c.state = 'demolished'
                                THEN CASE WHEN c.id % 10 < 7 THEN 'verified' ELSE 'completed' END
                            ELSE (ARRAY['assigned', 'assigned', 'assigned', 'assigned',
                                        'accepted', 'accepted', 'accepted', 'accepted',
                                        'rejected', 'completed'])[1 + c.id % 10] END AS state
            ) w
            WHERE c.state IN ('negotiated', 'demolished', 'closed')
            ORDER BY c.id""")

    def _events(self) -> None:
        """One statement per chain level: level k hashes each case's k-th event with the hash
        of its (k-1)-th, kept in a small table between levels."""
        self._sql("SET session_replication_role = replica")  # no per-row FK checks in the load
        self._sql("CREATE TEMP TABLE chain_prev (case_id integer PRIMARY KEY, hash text)")
        self._sql("CREATE TEMP TABLE chain_next (case_id integer PRIMARY KEY, hash text)")
        supervisor = f"{self.zones * ZONE_OFFICERS} + c.zone_id"
        for k in range(1, 8):
            steps = {state: history[k - 1] for state, history in HISTORIES.items()
                     if len(history) >= k}
            # Steps of the same level differ by state: one INSERT per distinct step.
            by_step: dict[tuple, list[str]] = {}
            for state, step in steps.items():
                by_step.setdefault(step, []).append(state)
            self._sql("TRUNCATE chain_next")
            for step, states in by_step.items():
                trigger, from_state, to_state, role, note, kind = step
                actor = supervisor if role == "supervisor" else "c.officer_id"
                prev = "'" + "0" * 64 + "'" if k == 1 else "p.hash"
                canonical = _canonical(step, _data_json(kind), prev)
                joins = "" if k == 1 else "JOIN chain_prev p ON p.case_id = c.id"
                if kind == "workorder":
                    joins += " JOIN workorders w ON w.case_id = c.id"
                in_states = ", ".join(f"'{state}'" for state in states)
                self._sql(f"""
                    WITH written AS (
                        INSERT INTO case_events (case_id, seq, trigger, from_state, to_state,
                                                 actor_id, actor, role, at, note, data,
                                                 prev_hash, hash)
                        SELECT c.id, {k}, {_literal(trigger)}, {_literal(from_state)},
                               {_literal(to_state)}, u.id, u.username, u.role, s.at,
                               {_literal(note)}, ({_data_json(kind)})::json, {prev},
                               encode(sha256(convert_to({canonical}, 'UTF8')), 'hex')
                        FROM cases c {joins}
                        CROSS JOIN LATERAL (SELECT {k} AS seq,
                                                   {self._step_time(k)} AS at) s
                        JOIN users u ON u.id = coalesce({actor},
                                                        {ZONE_OFFICERS} * (c.zone_id - 1) + 1)
                        WHERE c.state IN ({in_states})
                        RETURNING case_id, hash)
                    INSERT INTO chain_next SELECT case_id, hash FROM written""")
            self._sql("TRUNCATE chain_prev")
            self._sql("INSERT INTO chain_prev SELECT * FROM chain_next")
            self._sql("ANALYZE chain_prev")
        self._sql("DROP TABLE chain_prev")
        self._sql("DROP TABLE chain_next")
        self._sql("SET session_replication_role = DEFAULT")

    def _history_heads(self) -> None:
        """Where the schema keeps each case's history head on the case (``history_seq``,
        ``history_hash``: migration 0015), the head of the chains just written. The UPDATE
        leaves a dead row per case, so the table is rewritten (before its plain indexes are
        built) to keep it as compact as a loaded one."""
        columns = {row[0] for row in self.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'cases'")}
        if not {"history_seq", "history_hash"} <= columns:
            return
        self._sql("SET session_replication_role = replica")  # the counts do not change
        self._sql("""UPDATE cases c SET history_seq = e.seq, history_hash = e.hash
                     FROM case_events e WHERE e.case_id = c.id AND e.seq = c.version""")
        self._sql("SET session_replication_role = DEFAULT")
        self._sql("VACUUM FULL cases")

    def _notifications(self) -> None:
        n, z = self.cases, self.zones
        self._sql("SET session_replication_role = replica")
        kinds = "(ARRAY['transition', 'transition', 'transition', 'transition', 'transition', " \
                "'transition', 'reminder', 'reminder', 'overdue', 'escalation'])"
        self._sql(f"""
            INSERT INTO notifications (channel, kind, user_id, case_id, subject, body, payload,
                                       created_at, attempts, sent_at, read_at)
            SELECT 'inbox', x.kind,
                   CASE WHEN x.kind IN ('transition', 'reminder', 'overdue')
                        THEN coalesce(c.officer_id, {ZONE_OFFICERS} * (c.zone_id - 1) + 1)
                        ELSE {z * ZONE_OFFICERS} + c.zone_id END,
                   c.id,
                   CASE x.kind WHEN 'transition' THEN '案件 ' || c.ref || ' 状态已变更'
                               WHEN 'reminder' THEN '案件 ' || c.ref || ' 即将到期'
                               WHEN 'overdue' THEN '案件 ' || c.ref || ' 已逾期'
                               ELSE '案件 ' || c.ref || ' 逾期升级' END,
                   c.address || '：' || c.description, '{{}}', x.at, 0, x.at,
                   CASE WHEN x.at < now() - interval '3 days' OR {_unit(23, 'x.g')} < 0.5
                        THEN x.at + {_unit(24, 'x.g')} * interval '30 hours' END
            FROM (SELECT g, {kinds}[1 + g % 10] AS kind, 1 + (g::bigint * 104729) % {n} AS case_id,
                         now() - {_unit(21)} * interval '70 days' AS at
                  FROM generate_series(1, {n}) g) x
            JOIN cases c ON c.id = x.case_id""")
        self._sql("SET session_replication_role = DEFAULT")

    def _campaign_and_tokens(self) -> None:
        from casework.accounts.operations import hash_token

        self._sql("""INSERT INTO campaigns (name, start_date, end_date, version, created_at,
                                            updated_at)
            VALUES ('全市违建棚厦清零专项行动', current_date - 70, current_date + 56, 1,
                    now() - interval '70 days', now() - interval '70 days')""")
        self._sql("""INSERT INTO campaign_zones (campaign_id, zone_id, target, milestones)
            SELECT (SELECT max(id) FROM campaigns), zone_id, count(*), '[]'
            FROM cases GROUP BY zone_id""")
        for username in TOKEN_USERS:
            self._sql(f"""INSERT INTO api_tokens (user_id, token_hash, created_at)
                SELECT id, {_literal(hash_token(f"city-token-{username}"))}, now() FROM users
                WHERE username = {_literal(username)}""")

    def _verify_sample(self, sample: int = 2000) -> None:
        """The application's own chain check on a sample of cases of every state."""
        from sqlalchemy import select

        from casework.cases.history import _check_chain
        from casework.cases.models import Case, CaseEvent
        from casework.extensions import db

        app = app_for(self.url)
        with app.app_context():
            ids = db.session.scalars(text(
                f"SELECT id FROM cases TABLESAMPLE SYSTEM (1) LIMIT {sample}")).all()
            broken = []
            for case_id in ids:
                case = db.session.get(Case, case_id)
                events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                            .order_by(CaseEvent.seq)).all()
                found = _check_chain(events)
                head = getattr(case, "history_hash", events[-1].hash)
                if found or events[-1].to_state != case.state.value or head != events[-1].hash:
                    broken.append((case.ref, found))
            db.session.remove()
            db.engine.dispose()
        print(f"    {len(ids)} sampled chains checked, {len(broken)} broken", flush=True)
        if broken:
            raise SystemExit(f"hash chains do not verify: {broken[:5]}")

    def _comment(self, meta: dict) -> None:
        conninfo = make_url(self.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'COMMENT ON DATABASE "{make_url(self.url).database}" IS '
                         f"{_literal(json.dumps(meta, ensure_ascii=True))}")


def generated(url: str) -> dict | None:
    """What the city at ``url`` was generated with (its database comment), or None."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            comment = conn.execute(text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = :name"), {"name": make_url(url).database}).scalar()
    finally:
        admin.dispose()
    try:
        return json.loads(comment) if comment else None
    except ValueError:
        return None


def generate(url: str, cases: int) -> dict:
    print(f"generating {cases:,} cases into {make_url(url).database}", flush=True)
    meta = Generator(url, cases).run()
    print(f"generated in {meta['seconds']} s: {meta['counts']}, {meta['due_cases']:,} cases "
          f"due within 24 hours, migration head {meta['head']}", flush=True)
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--name", default=None, help="database name (default <db>_city)")
    args = parser.parse_args()
    generate(city_url(args.name), args.cases)


if __name__ == "__main__":
    main()
