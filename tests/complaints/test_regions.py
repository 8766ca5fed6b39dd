"""Regions: every common way of writing a province becomes its one stored name, at intake and in the data
migration, so that 广东 and 广东省 are one region in every count."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from closeloop.complaints.models import Complaint
from closeloop.directory.city_table import CITIES
from closeloop.directory.regions import PROVINCES, city_standard, province_aliases, province_standard


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("广东", "广东"),
        ("广东省", "广东"),
        (" 广 东 省 ", "广东"),
        ("内蒙", "内蒙古"),
        ("内蒙古自治区", "内蒙古"),
        ("广西壮族自治区", "广西"),
        ("北京", "北京"),
        ("北京市", "北京"),
        ("香港特别行政区", "香港"),
        ("Hong Kong", "香港"),
        ("火星", "火星"),  # unknown: kept as typed
        ("", ""),
    ],
)
def test_province_standard(typed: str, standard: str) -> None:
    assert province_standard(typed) == standard


def test_every_standard_name_is_its_own_standard_and_no_alias_is_standard() -> None:
    assert len(PROVINCES) == 34
    for full, short in PROVINCES:
        assert province_standard(full) == short and province_standard(short) == short
    assert not set(province_aliases()) & {short for _full, short in PROVINCES}


@pytest.mark.django_db
def test_intake_stores_the_standard_name(make_complaint: Callable[..., Complaint]) -> None:
    one = make_complaint(province="广东", city="深圳")
    two = make_complaint(province="广东省", city="广州")
    assert one.province == two.province == "广东"
    assert one.customer.province == "广东"
    assert (one.city, two.city, one.customer.city) == ("深圳市", "广州市", "深圳市")


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("深圳", "深圳市"),
        ("深圳市", "深圳市"),
        (" 深 圳 ", "深圳市"),
        ("广东深圳", "深圳市"),
        ("广东省深圳市", "深圳市"),
        ("恩施州", "恩施土家族苗族自治州"),
        ("恩施", "恩施土家族苗族自治州"),
        ("克孜勒苏", "克孜勒苏柯尔克孜自治州"),
        ("阿拉善", "阿拉善盟"),
        ("仙桃", "仙桃市"),
        ("北京", "北京市"),
        ("海南", "海南"),  # the province typed again, not 海南藏族自治州
        ("宝安区", "宝安区"),  # a district: kept as typed
        ("", ""),
    ],
)
def test_city_standard(typed: str, standard: str) -> None:
    assert city_standard(typed) == standard


def test_the_city_table_has_every_prefecture_once() -> None:
    names = [name for _code, name, _short in CITIES]
    assert len(names) == len(set(names)) and len(names) > 330
    shorts = [short for _code, _name, forms in CITIES for short in forms]
    assert len(shorts) == len(set(shorts))
    assert all(city_standard(name) == name for name in names)


@pytest.mark.django_db
def test_the_data_migration_merges_existing_aliases(make_complaint: Callable[..., Complaint]) -> None:
    from importlib import import_module

    from django.apps import apps

    complaint = make_complaint(province="广东")
    Complaint.objects.filter(pk=complaint.pk).update(province="广东省")  # as stored before the migration
    other = make_complaint(province="内蒙古")
    Complaint.objects.filter(pk=other.pk).update(province="内蒙")
    migration = import_module("closeloop.complaints.migrations.0014_standard_provinces")
    migration.forwards(apps, None)
    assert set(Complaint.objects.values_list("province", flat=True)) == {"广东", "内蒙古"}


@pytest.mark.django_db
def test_the_data_migration_merges_existing_city_aliases(make_complaint: Callable[..., Complaint]) -> None:
    from importlib import import_module

    from django.apps import apps

    one, two = make_complaint(city="深圳"), make_complaint(city="深圳市")
    Complaint.objects.filter(pk=one.pk).update(city="深圳")  # as stored before the migration
    Complaint.objects.filter(pk=two.pk).update(city="广东省深圳市")
    migration = import_module("closeloop.complaints.migrations.0015_standard_cities")
    migration.forwards(apps, None)
    assert set(Complaint.objects.values_list("city", flat=True)) == {"深圳市"}
