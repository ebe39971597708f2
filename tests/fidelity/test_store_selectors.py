"""Label and field selector grammar and matching (k8s.io/apimachinery semantics)."""
from __future__ import annotations

import pytest

from k3s_standin.selectors import (SelectorError, parse_field_selector, parse_label_selector,
                                   selector_from_match)

LABELS = {"app": "web", "tier": "front", "n": "5"}


@pytest.mark.parametrize("text,expected", [
    ("", True), ("app=web", True), ("app==web", True), ("app=api", False), ("app!=api", True),
    ("app!=web", False), ("missing!=x", True), ("app in (web,api)", True), ("app in (api)", False),
    ("app notin (api)", True), ("missing notin (x)", True), ("app notin (web)", False), ("app", True),
    ("missing", False), ("!missing", True), ("!app", False), ("app=web,tier=front", True),
    ("app=web, tier=back", False), ("n>3", True), ("n<3", False), ("missing>1", False),
    ("  app  in  ( web , api ) ", True), ("app=", False), ("empty=", True),
])
def test_label_selector_matching(text: str, expected: bool) -> None:
    labels = dict(LABELS, empty="")
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize("text", ["app in web", "a b", "app=web)", "x>y", "bad key=1", "k=va lue"])
def test_label_selector_syntax_errors(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(text)


def test_invalid_label_value_wording() -> None:
    with pytest.raises(SelectorError) as excinfo:
        parse_label_selector("app=" + "x" * 64)
    assert str(excinfo.value).startswith('unable to parse requirement: values[0][app]: Invalid value: "xxx')


def test_match_labels_and_expressions() -> None:
    selector = selector_from_match({"matchLabels": {"app": "web"},
                                    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]},
                                                         {"key": "gone", "operator": "DoesNotExist"}]})
    assert selector.matches(LABELS)
    assert not selector.matches({"app": "web"})


def test_field_selectors() -> None:
    obj = {"metadata": {"name": "a", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "type": "Opaque"}
    assert parse_field_selector("metadata.name=a,metadata.namespace!=x").matches(obj)
    assert not parse_field_selector("metadata.name==b").matches(obj)
    assert parse_field_selector("spec.nodeName=n1", "pods").matches(obj)
    assert parse_field_selector("type=Opaque", "secrets").matches(obj)
    assert parse_field_selector("metadata.name=a\\,b").requirements[0].value == "a,b"
    with pytest.raises(SelectorError) as excinfo:
        parse_field_selector("spec.nodeName=n1", "configmaps")
    assert str(excinfo.value) == "field label not supported: spec.nodeName"
    with pytest.raises(SelectorError) as excinfo:
        parse_field_selector("spec.x=1", "widgets", custom=True)
    assert str(excinfo.value) == '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
