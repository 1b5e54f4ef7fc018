#!/usr/bin/env python3
"""Generate the test server's schema from Odoo 19's own `fields_get` answers.

Reads the recorded `fields_get_<model>.json` exchanges (a real Odoo 19.0
Community server with demo data, see shared/fixtures/odoo-19/README.md) and
writes two files next to the test server:

- `odoo-client/src/test_server/schema/odoo19.tsv`: every field of every
  recorded model, one line each (the data the server loads);
- `odoo-client/src/test_server/schema/models.md`: the same as a rustdoc
  page, so users read the schema in the docs rather than in the source.

Run from the workspace root, with the fixtures one level up (or give their
folder):

    python3 scripts/test_server_schema.py [../shared/fixtures/odoo-19]

It also writes `countries.tsv` (every country, as Odoo's base data has
them) from tzdata's ISO 3166 table.

The output is deterministic (sorted), so a re-run without new recordings
changes nothing. Odoo's facts are carried over (names, types, relations,
flags, selection values); nothing else from the recordings is.

TSV format (tab-separated, `#` lines are comments):

    %<name>  <json selection>          a selection shared by several fields
    =<model> <description>             starts a model
    <field> <type> <label> <flags> <relation> <inverse> <related> <groups> <selection> <attributes>

flags: R required, O readonly, S stored, C company-dependent, T translated.
selection: empty, a JSON list of [key, label] pairs, or `%<name>`.
attributes: the other attributes of `fields_get`, as JSON (see attributes()).
"""

import glob
import json
import os
import sys

# What `fields_get` does not tell: the models' descriptions (`_description`,
# used in Odoo's error messages), and fields hidden from the recording
# administrator because they belong to a group it lacks (Odoo leaves those
# out of `fields_get`, but still answers an AccessError when one is read).
DESCRIPTIONS = {
    "account.analytic.account": "Analytic Account",
    "account.analytic.line": "Analytic Line",
    "account.journal": "Journal",
    "account.move": "Journal Entry",
    "account.move.line": "Journal Item",
    "account.payment": "Payments",
    "account.payment.term": "Payment Terms",
    "account.tax": "Tax",
    "crm.lead": "Lead",
    "crm.stage": "CRM Stages",
    "hr.department": "Department",
    "hr.employee": "Employee",
    "hr.expense": "Expense",
    "hr.job": "Job Position",
    "ir.model.data": "Model Data",
    "product.product": "Product Variant",
    "product.template": "Product",
    "project.milestone": "Project Milestone",
    "project.project": "Project",
    "project.task": "Task",
    "project.task.type": "Task Stage",
    "res.company": "Companies",
    "res.country": "Country",
    "res.currency": "Currency",
    "res.partner": "Contact",
    "res.partner.category": "Partner Tags",
    "res.partner.industry": "Industry",
    "res.users": "User",
    "resource.calendar": "Resource Working Time",
    "sale.order": "Sales Order",
    "sale.order.line": "Sales Order Line",
    "uom.uom": "Product Unit of Measure",
}

HIDDEN = {
    "project.project": {
        "stage_id": {
            "type": "many2one",
            "string": "Stage",
            "relation": "project.project.stage",
            "store": True,
            "groups": "project.group_project_stages",
        },
    },
}

# The attributes `fields_get` answers for every field; a field's value is
# written in the TSV only where it differs from this default.
ALWAYS = {
    "change_default": False,
    "default_export_compatible": False,
    "depends": [],
    "exportable": True,
    "groupable": True,
    "manual": False,
    "searchable": True,
    "sortable": True,
}

# Attributes that have a column of their own (or are the field's name).
COLUMNS = {
    "name", "type", "string", "required", "readonly", "store",
    "company_dependent", "translate", "relation", "relation_field",
    "related", "groups", "selection",
}

FLAGS = [
    ("required", "R"),
    ("readonly", "O"),
    ("store", "S"),
    ("company_dependent", "C"),
    ("translate", "T"),
]


def clean(text):
    """One line of TSV: no tabs or newlines inside a cell."""
    return " ".join(str(text).split())


def load(folder):
    models = {}
    for path in sorted(glob.glob(os.path.join(folder, "fields_get_*.json"))):
        with open(path, encoding="utf-8") as f:
            exchange = json.load(f)
        args = exchange["request_body"]["params"]["args"]
        kwargs = args[6] if len(args) > 6 else {}
        if kwargs.get("attributes"):
            continue  # a partial answer; the full one is recorded too
        models[args[3]] = exchange["response_body"]["result"]
    for model, extra in HIDDEN.items():
        models.setdefault(model, {}).update(extra)
    return models


def attributes(a):
    """The field's other attributes as compact JSON: those every field has,
    where they differ from ALWAYS; the others (domain, help, digits, ...)
    as they are. Empty when there is nothing to say."""
    out = {}
    for key, value in sorted(a.items()):
        if key in COLUMNS:
            continue
        if key in ALWAYS and ALWAYS[key] == value:
            continue
        out[key] = value
    if "translate" in a and not a["translate"]:
        out["translate"] = False
    if "name" not in a:
        out["~partial"] = True
    if not out:
        return ""
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def anchor(model):
    """The id rustdoc gives the heading `## res.partner`."""
    return model.replace(".", "")


def selection_text(selection, shared):
    if not isinstance(selection, list) or not selection:
        return ""
    text = json.dumps(selection, ensure_ascii=False, separators=(",", ":"))
    return f"%{shared[text]}" if text in shared else text


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "..", "shared", "fixtures", "odoo-19"
    )
    models = load(folder)
    missing = sorted(set(models) - set(DESCRIPTIONS))
    if missing:
        sys.exit(f"no description for {missing}: add them to DESCRIPTIONS")

    # Long selections repeated across fields (time zones, languages) are
    # written once.
    counts = {}
    for fields in models.values():
        for attrs in fields.values():
            sel = attrs.get("selection")
            if isinstance(sel, list) and len(sel) > 8:
                key = json.dumps(sel, ensure_ascii=False, separators=(",", ":"))
                counts[key] = counts.get(key, 0) + 1
    shared = {}
    for text, n in sorted(counts.items()):
        if n > 1:
            shared[text] = f"s{len(shared) + 1}"

    out = os.path.join(root, "odoo-client", "src", "test_server", "schema")
    os.makedirs(out, exist_ok=True)
    lines = [
        "# Odoo 19.0 fields, from its fields_get answers.",
        "# Generated by scripts/test_server_schema.py; do not edit.",
    ]
    for text, name in sorted(shared.items(), key=lambda kv: kv[1]):
        lines.append(f"%{name}\t{text}")
    doc = [
        "The models the test server knows, with Odoo 19's fields.",
        "",
        "Generated by `scripts/test_server_schema.py` from the `fields_get`",
        "answers of a real Odoo 19.0 (Community, demo data). Every model a",
        "field points to that is not listed here exists as a plain model",
        "with `name` and the automatic fields.",
        "",
        "Flags: **R** required, **O** read-only, **S** stored, **C**",
        "company-dependent, **T** translated. A field that is not stored",
        "reads as Odoo's empty value unless the test server computes it",
        "(see the module docs); a `related` field reads through its path.",
        "",
    ]
    doc.append("| model | fields |")
    doc.append("|---|---|")
    for model in sorted(models):
        doc.append(f"| [`{model}`](#{anchor(model)}) | {len(models[model])} |")
    doc.append("")
    for model in sorted(models):
        fields = models[model]
        lines.append(f"={model}\t{DESCRIPTIONS[model]}")
        doc.append(f"## {model}")
        doc.append("")
        doc.append(f"{DESCRIPTIONS[model]}.")
        doc.append("")
        doc.append("| field | type | label | flags | relation / related |")
        doc.append("|---|---|---|---|---|")
        for name in sorted(fields):
            a = fields[name]
            flags = "".join(c for key, c in FLAGS if a.get(key))
            row = [
                name,
                a["type"],
                clean(a.get("string", "")),
                flags,
                a.get("relation", "") or "",
                a.get("relation_field", "") or "",
                a.get("related", "") or "",
                a.get("groups", "") or "",
                selection_text(a.get("selection"), shared),
                attributes(a),
            ]
            lines.append("\t".join(row).rstrip("\t"))
            target = a.get("relation", "") or ""
            if a.get("related"):
                target = f"{target} = `{a['related']}`".strip()
            label = clean(a.get("string", "")).replace("|", "\\|")
            doc.append(f"| `{name}` | {a['type']} | {label} | {flags} | {target} |")
        doc.append("")
    with open(os.path.join(out, "odoo19.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "models.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(doc))
    countries(out)
    print(f"{len(models)} models, {sum(len(v) for v in models.values())} fields")


# Where Odoo's English names differ from tzdata's short ones.
COUNTRY_NAMES = {
    "GB": "United Kingdom",
    "KR": "South Korea",
    "KP": "North Korea",
    "CD": "Democratic Republic of the Congo",
    "CG": "Congo",
    "MM": "Myanmar",
    "XK": "Kosovo",
}


def countries(out, table="/usr/share/zoneinfo/iso3166.tab"):
    """Odoo's base data has every country, in the order of their codes
    (so the United States is id 233, as in a real database). The codes and
    names come from tzdata's ISO 3166 table, plus Kosovo, which Odoo adds."""
    rows = {}
    with open(table, encoding="utf-8") as f:
        for line in f:
            if line[:1].isupper():
                code, name = line.rstrip("\n").split("\t")[:2]
                rows[code] = name
    rows["XK"] = "Kosovo"
    rows.update({k: v for k, v in COUNTRY_NAMES.items() if k in rows})
    with open(os.path.join(out, "countries.tsv"), "w", encoding="utf-8") as f:
        f.write("# ISO 3166 codes and names, in Odoo's order; generated by\n")
        f.write("# scripts/test_server_schema.py from tzdata's iso3166.tab.\n")
        for code in sorted(rows):
            f.write(f"{code}\t{rows[code]}\n")


if __name__ == "__main__":
    main()
