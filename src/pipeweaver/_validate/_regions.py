"""Rules of regions and accounts (P2, P3, A11).

Artifact stores per region, action regions, KMS keys and cross-account roles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .._shapes import join_key
from ._context import _Action, _Context, _dict, _list, _str
from ._registry import _UG, reports, rule_info

_ACCOUNT: Final = re.compile(r"arn:aws[\w-]*:iam::([0-9]{12}):")


# ---------------------------------------------------------------------------------------------
# regions and accounts (P2, P3, A11)


@reports(
    rule_info(
        "PW103",
        "error",
        "Cross-region action with a single artifactStore",
        "P2: actions in other regions need artifactStores, one bucket per region.",
        '{"artifactStore": {...}, "stages": [..., {"actions": [{"region": "eu-west-1", ...}]}]}',
        _UG + "actions-create-cross-region.html",
    ),
    rule_info(
        "PW104",
        "error",
        "Action region has no artifact store",
        "P3: artifactStores needs an entry for every region an action runs in.",
        '{"artifactStores": {"us-east-1": {...}}, ... {"region": "eu-west-1"}}',
        _UG + "actions-create-cross-region.html",
    ),
    rule_info(
        "PW105",
        "error",
        "Pipeline region has no artifact store",
        "P3: artifactStores needs an entry for the pipeline's own region (checked when lint is given region=).",
        'lint(p, region="us-east-1") with artifactStores {"eu-west-1": ...}',
        _UG + "actions-create-cross-region.html",
    ),
    rule_info(
        "PW216",
        "error",
        "Region on an action that must run in the pipeline region",
        "A11: Source, ThirdParty and Custom actions cannot be cross-region (checked when lint is given region=).",
        'lint(p, region="us-east-1") with a Source action {"region": "eu-west-1"}',
        _UG + "actions-create-cross-region.html",
    ),
    rule_info(
        "PW711",
        "warning",
        "Artifact store no action uses",
        "artifactStores holds the pipeline region and the regions actions run in; other entries are unused buckets.",
        '{"artifactStores": {"us-east-1": ..., "eu-west-1": ..., "ap-south-1": ...}} and no action region',
        _UG + "actions-create-cross-region.html",
    ),
)
def _region_rules(ctx: _Context) -> None:
    home = ctx.region
    store = ctx.decl.get("artifactStore")
    stores = ctx.decl.get("artifactStores")
    used: list[tuple[str, str, _Action]] = [(f"{a.path}.region", a.region, a) for a in ctx.actions if a.region]
    regions = {r for _, r, _ in used}
    rule_regions: list[tuple[str, str]] = []
    for _si, spath, stage, _name in ctx.stages:
        for kind in ("onFailure", "onSuccess", "beforeEntry"):
            for ci, cond in enumerate(_list(_dict(stage.get(kind)).get("conditions"))):
                for ri, rule in enumerate(_list(_dict(cond).get("rules"))):
                    region = _str(_dict(rule).get("region"))
                    if region:
                        rule_regions.append((f"{spath}.{kind}.conditions[{ci}].rules[{ri}].region", region))
    if isinstance(store, Mapping) and stores is None:
        if home is not None:
            for path, r, a in used:
                if r != home:
                    ctx.add(
                        "PW103",
                        path,
                        f"action {a.label} runs in {r}, outside the pipeline region {home}, but the pipeline has a "
                        "single artifactStore",
                        f"replace artifactStore with artifactStores holding {home!r} and {r!r}",
                    )
        elif len(regions) > 1:
            ctx.add(
                "PW103",
                "artifactStore",
                f"actions run in {len(regions)} regions ({', '.join(sorted(regions))}) but the pipeline has a "
                "single artifactStore, which serves only the pipeline region",
                "replace artifactStore with artifactStores, one entry per region",
            )
    if isinstance(stores, Mapping):
        keys = [k for k in stores if isinstance(k, str)]
        for path, r, a in used:
            if r not in keys:
                ctx.add(
                    "PW104",
                    path,
                    f"action {a.label} runs in {r}, which has no entry in artifactStores",
                    f'add artifactStores["{r}"] with a bucket in {r}',
                )
        for path, r in rule_regions:
            if r not in keys:
                ctx.add(
                    "PW104",
                    path,
                    f"the rule runs in {r}, which has no entry in artifactStores",
                    f'add artifactStores["{r}"] with a bucket in {r}',
                )
        if home is not None and home not in keys:
            ctx.add(
                "PW105",
                "artifactStores",
                f"artifactStores has no entry for the pipeline region {home}",
                f'add artifactStores["{home}"]',
            )
        unused = [k for k in keys if k not in regions and k != home]
        if home is not None:
            for k in unused:
                ctx.add(
                    "PW711",
                    join_key("artifactStores", k),
                    f"no action runs in {k} and it is not the pipeline region {home}",
                    "remove the entry",
                )
        elif len(unused) >= 2:
            ctx.add(
                "PW711",
                "artifactStores",
                f"no action runs in {', '.join(unused)}; at most one of them can be the pipeline region",
                "remove the stores no action uses (call lint(..., region=) to name the pipeline region)",
            )
    if home is not None:
        for path, r, a in used:
            if r != home and (a.is_source or a.owner in ("ThirdParty", "Custom")):
                what = "source" if a.is_source else a.owner
                ctx.add(
                    "PW216",
                    path,
                    f"{what} action {a.label} cannot run in another region ({r}; the pipeline is in {home})",
                    "remove region",
                )


_KMS_REGION: Final = re.compile(r"arn:aws[\w-]*:kms:([a-z0-9-]+):")


@reports(
    rule_info(
        "PW114",
        "error",
        "Artifact store key in another region",
        "P3: the KMS key of each artifact store lives in that store's region (KMS keys are regional).",
        '{"artifactStores": {"eu-west-1": {"encryptionKey": {"id": "arn:aws:kms:us-east-1:...:key/k"}}}}',
        _UG + "actions-create-cross-region.html",
    ),
)
def _key_regions(ctx: _Context) -> None:
    """P3: a store's KMS key ARN names the store's region (aliases and key IDs name none)."""
    stores: list[tuple[str, str | None, Any]] = []
    if isinstance(ctx.decl.get("artifactStore"), Mapping):
        stores.append(("artifactStore", ctx.region, ctx.decl["artifactStore"]))
    for k, v in _dict(ctx.decl.get("artifactStores")).items():
        if isinstance(k, str):
            stores.append((join_key("artifactStores", k), k, v))
    for path, region, store in stores:
        kid = _dict(_dict(store).get("encryptionKey")).get("id")
        m = _KMS_REGION.match(kid) if isinstance(kid, str) else None
        if m is not None and region is not None and m.group(1) != region:
            ctx.add(
                "PW114",
                f"{path}.encryptionKey.id",
                f"the artifact store for {region} uses a KMS key in {m.group(1)}",
                f"use a KMS key created in {region}",
            )


@reports(
    rule_info(
        "PW703",
        "warning",
        "Cross-account action with the AWS-managed artifact key",
        "Another account's role cannot decrypt artifacts encrypted with the default aws/s3 key; "
        "give the artifact store a customer-managed KMS key.",
        '{"roleArn": "arn:aws:iam::222222222222:role/Deploy"} in a pipeline of account 111111111111',
        _UG + "pipelines-create-cross-account.html",
    ),
    rule_info(
        "PW712",
        "warning",
        "KMS alias with a cross-account action",
        "§1.2: aliases resolve only in the key's account; cross-account actions need the key ID or ARN.",
        '"encryptionKey": {"id": "alias/pipeline", "type": "KMS"} and a cross-account roleArn',
        _UG + "S3-artifact-encryption.html",
    ),
)
def _account_rules(ctx: _Context) -> None:
    role = ctx.decl.get("roleArn")
    m = _ACCOUNT.match(role) if isinstance(role, str) else None
    if m is None:
        return
    home = m.group(1)
    foreign = []
    for a in ctx.actions:
        arn = a.data.get("roleArn")
        am = _ACCOUNT.match(arn) if isinstance(arn, str) else None
        if am is not None and am.group(1) != home:
            foreign.append((a, am.group(1)))
    if not foreign:
        return
    stores: list[tuple[str, Mapping[str, Any]]] = []
    if isinstance(ctx.decl.get("artifactStore"), Mapping):
        stores.append(("artifactStore", ctx.decl["artifactStore"]))
    for k, v in _dict(ctx.decl.get("artifactStores")).items():
        if isinstance(v, Mapping) and isinstance(k, str):
            stores.append((join_key("artifactStores", k), v))
    for spath, store in stores:
        key = store.get("encryptionKey")
        a, account = foreign[0]
        if key is None:
            ctx.add(
                "PW703",
                spath,
                f"action {a.label} uses a role in account {account} (the pipeline is in {home}), but this artifact "
                "store uses the AWS-managed aws/s3 key, which other accounts cannot use",
                "add encryptionKey with a customer-managed KMS key that the other account may use",
            )
        else:
            kid = _dict(key).get("id")
            if isinstance(kid, str) and (kid.startswith("alias/") or ":alias/" in kid):
                ctx.add(
                    "PW712",
                    f"{spath}.encryptionKey.id",
                    f"the artifact key is the alias {kid!r}; action {a.label} runs in account {account}, where "
                    "the alias does not resolve",
                    "use the key ARN instead of the alias",
                )
