"""Similar complaints, and clusters of them.

Similar: for one complaint, the open or recent complaints (TRIAGE_SIMILAR_DAYS) about the same product
line (else the same product text) whose words are closest — the cosine of their character-pair counts
— with a little weight for the same model and the same region. The desk offers to link one as a repeat
or merge it (closeloop/followup's services).

Clusters: per product line, the complaints received within TRIAGE_CLUSTER_DAYS that are in no defect
alert or incident yet are grouped by the same similarity (a complaint joins the first cluster whose
first complaint it resembles at TRIAGE_CLUSTER_SIMILARITY or more). A cluster of TRIAGE_CLUSTER_SIZE
complaints raises one defect alert through closeloop/defects (its alert, its events on every complaint,
its notice to quality), even when nobody typed a batch number and the models differ.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from closeloop.complaints.lifecycle import NOT_COUNTED_STATUSES, OPEN_STATUSES
from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.selectors import complaints_visible_to
from closeloop.core.types import AnyUser
from closeloop.defects.models import DefectAlert
from closeloop.defects.services.common import complaint_events, defect_event, lock_product
from closeloop.defects.services.spikes import alert_notify, covering_alert, join_alert, untaken
from closeloop.triage import learn
from closeloop.triage.text import bigrams, cosine, spans

BLOCK = 512  # rows of the similarity matrix computed at once (memory: BLOCK × the window's complaints)
CANDIDATES = 300  # the newest complaints of the line compared with this one
SIMILAR_MIN = 0.35
# Average linkage holds a part's pairwise distances: 2,000 complaints of one line in the window is 16 MB.
LINKAGE_MAX = 2000
# Without a trained model the texts are plain character pairs, where every complaint shares much with every
# other: the threshold measured for them before a model existed (TRIAGE_CLUSTER_SIMILARITY_PERCENT is for
# the model's weighted words).
COLD_START_SIMILARITY = 0.35


def shared_words(text: str, a: Counter[str], b: Counter[str]) -> list[str]:
    return spans(text, [g for g in a if g in b], limit=4)


@dataclass
class Similar:
    complaint: Complaint
    score: float
    words: list[str] = field(default_factory=list)
    same_product: bool = False
    same_region: bool = False


def similar_to(
    *, complaint: Complaint, user: AnyUser, limit: int = 5, now: datetime.datetime | None = None
) -> list[Similar]:
    """The most similar open or recent complaints the user may see (two queries)."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=settings.TRIAGE_SIMILAR_DAYS)
    qs = complaints_visible_to(user).exclude(pk=complaint.pk).exclude(status__in=NOT_COUNTED_STATUSES)
    qs = qs.filter(Q(status__in=OPEN_STATUSES) | Q(received_at__gte=since))
    if complaint.product_id and complaint.product:
        qs = qs.filter(product__line_id=complaint.product.line_id)
    elif complaint.product_text.strip():
        qs = qs.filter(product_text__iexact=complaint.product_text.strip())
    else:
        qs = qs.filter(received_at__gte=since)
    candidates = list(qs.select_related("product", "type").order_by("-received_at", "-pk")[:CANDIDATES])
    mine = bigrams(complaint.description)
    found = []
    for other in candidates:
        theirs = bigrams(other.description)
        text = cosine(mine, theirs)
        same_product = bool(complaint.product_id) and other.product_id == complaint.product_id
        same_region = bool(complaint.province) and other.province == complaint.province
        score = 0.75 * text + 0.15 * same_product + 0.10 * same_region
        if score >= SIMILAR_MIN:
            found.append(
                Similar(
                    other, round(score, 2), shared_words(other.description, theirs, mine), same_product, same_region
                )
            )
    found.sort(key=lambda s: (-s.score, -s.complaint.pk))
    return found[:limit]


# --- clusters ------------------------------------------------------------------------------------------------


@dataclass
class Cluster:
    line_id: int
    members: list[tuple[int, int]]  # (complaint id, product id), oldest first
    words: list[str] = field(default_factory=list)


def _grams(text: str) -> list[str]:
    return list(bigrams(text).elements())


def cluster_matrix(texts: list[str], learned: learn.Learned | None) -> Any:
    """The texts as unit rows. With a learned model: its TF-IDF of characters and pairs, each n-gram weighted
    by how much it tells types and departments apart (`Learned.cluster_weights`), so what a failure's
    complaints share counts and what every complaint says does not. Without one: plain pair counts."""
    if learned is None:
        return TfidfVectorizer(analyzer=_grams, use_idf=False, dtype=np.float32).fit_transform(texts)
    matrix = learned.vectorizer.transform(texts).multiply(learned.cluster_weights.reshape(1, -1)).tocsr()
    return normalize(matrix)


def clusters_find(texts: list[str], *, similarity: float, learned: learn.Learned | None = None) -> list[list[int]]:
    """Group texts describing the same failure; the groups as lists of indexes.

    Two steps (the second only with a learned model). The graph of pairs whose cosine reaches `similarity`
    splits the texts into connected parts (sparse, cheap, blockwise). Inside each part, average-linkage
    agglomeration joins two groups only while their members resemble each other at `similarity` on average,
    so one chance likeness no longer chains two failures together; that let the threshold come down and a
    failure's different wordings come together
    (measured in bench/bench_triage.py; docs/decisions.md, issue 19)."""
    n = len(texts)
    if n < 2:
        return [[i] for i in range(n)]
    matrix = cluster_matrix(texts, learned)
    sources, targets = [], []
    for start in range(0, n, BLOCK):
        block = (matrix[start : start + BLOCK] @ matrix.T).toarray()
        r, c = np.nonzero(block >= similarity)
        sources.append(r + start)
        targets.append(c)
    edges = np.concatenate(sources), np.concatenate(targets)
    graph = csr_matrix((np.ones(len(edges[0]), dtype=np.int8), edges), shape=(n, n))
    _count, labels = connected_components(graph, directed=False)
    parts: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        parts.setdefault(int(label), []).append(index)
    groups: list[list[int]] = []
    for part in parts.values():
        if learned is None or len(part) < 3 or len(part) > LINKAGE_MAX:
            # Two linked texts are alike; a part beyond LINKAGE_MAX stays as linked; and without a model
            # (plain pairs at COLD_START_SIMILARITY) the connected parts are the groups, as measured then.
            groups.append(part)
            continue
        rows = matrix[part]
        distance = 1.0 - np.asarray((rows @ rows.T).todense(), dtype=np.float64)
        np.fill_diagonal(distance, 0.0)
        tree = linkage(squareform(np.clip(distance, 0.0, None), checks=False), method="average")
        found: dict[int, list[int]] = {}
        for index, label in zip(part, fcluster(tree, t=1.0 - similarity, criterion="distance"), strict=True):
            found.setdefault(int(label), []).append(index)
        groups.extend(found.values())
    return groups


def clusters_scan(*, now: datetime.datetime | None = None, notify: bool = True) -> list[DefectAlert]:
    """Find the text clusters of every product line in the window and raise an alert for each that
    reached TRIAGE_CLUSTER_SIZE. Idempotent: complaints already in an alert or incident are not counted."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=settings.TRIAGE_CLUSTER_DAYS)
    countable = untaken(
        Complaint.objects.filter(received_at__gte=since, received_at__lte=now, product__isnull=False).exclude(
            status__in=NOT_COUNTED_STATUSES
        )
    )
    by_line: dict[int, list[tuple[int, int, str]]] = {}
    for pk, product_id, line_id, description in countable.order_by("received_at", "pk").values_list(
        "pk", "product_id", "product__line_id", "description"
    ):
        by_line.setdefault(line_id, []).append((pk, product_id, description))
    raised = []
    _version, learned = learn.current()
    for line_id, rows in by_line.items():
        if len(rows) < settings.TRIAGE_CLUSTER_SIZE:
            continue
        texts = [r[2] for r in rows]
        similarity = settings.TRIAGE_CLUSTER_SIMILARITY if learned is not None else COLD_START_SIMILARITY
        for group in clusters_find(texts, similarity=similarity, learned=learned):
            if len(group) < settings.TRIAGE_CLUSTER_SIZE:
                continue
            members = [(rows[i][0], rows[i][1]) for i in group]
            common = bigrams(texts[group[0]])
            for i in group[1:]:
                common &= bigrams(texts[i])
            cluster = Cluster(line_id=line_id, members=members, words=spans(texts[group[0]], list(common), limit=4))
            alert = cluster_alert(cluster=cluster, now=now, notify=notify)
            if alert is not None:
                raised.append(alert)
    return raised


def cluster_alert(*, cluster: Cluster, now: datetime.datetime, notify: bool = True) -> DefectAlert | None:
    """One defect alert for the cluster, about its most frequent model, listing every complaint of it.
    Where an alert is open for that model already, the cluster's complaints join it instead."""
    product_id = Counter(p for _pk, p in cluster.members).most_common(1)[0][0]
    ids = [pk for pk, _p in cluster.members]
    with transaction.atomic():
        lock_product(product_id)
        listed = list(
            untaken(Complaint.objects.filter(pk__in=ids)).select_related("product").order_by("received_at", "id")
        )
        if len(listed) < settings.TRIAGE_CLUSTER_SIZE:
            return None  # taken meanwhile
        existing = covering_alert(product_id=product_id, key="")
        if existing is not None:
            for complaint in listed:
                join_alert(alert=existing, complaint=complaint, now=now)
            return None
        product = next(c.product for c in listed if c.product_id == product_id)
        try:
            with transaction.atomic():
                alert = DefectAlert.objects.create(
                    product_id=product_id,
                    batch_no="",
                    raised_at=now,
                    threshold=settings.TRIAGE_CLUSTER_SIZE,
                    window_days=settings.TRIAGE_CLUSTER_DAYS,
                )
        except IntegrityError:
            return None  # raised by another scan a moment ago: the next scan joins these to it
        alert.complaints.add(*listed)
        defect_event(
            kind="raised",
            at=now,
            alert=alert,
            data={
                "complaints": [c.number for c in listed],
                "trigger": listed[-1].number,
                "threshold": settings.TRIAGE_CLUSTER_SIZE,
                "window_days": settings.TRIAGE_CLUSTER_DAYS,
                "rule": "text_cluster",
                "words": cluster.words,
            },
        )
        with translation.override(settings.LANGUAGE_CODE):
            note = _(
                "%(count)s complaints about %(line)s describe the same failure (%(words)s) within %(days)s days"
            ) % {
                "count": len(listed),
                "line": product.line.name if product and product.line else "",
                "words": "、".join(cluster.words) or "—",
                "days": settings.TRIAGE_CLUSTER_DAYS,
            }
        complaint_events(
            complaints=listed,
            action="defect_alert_raised",
            at=now,
            actor=None,
            via=Via.SYSTEM,
            after={
                "alert": alert.pk,
                "product": product_id,
                "batch_no": "",
                "complaints": len(listed),
                "rule": "text_cluster",
            },
            note=note,
        )
        if notify and product is not None:
            alert_notify(alert=alert, product=product, complaints=listed, trigger=listed[-1], now=now)
    return alert
