"""Generated pipelines with CloudFormation expressions wherever the model allows one."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import strategies as st

import pipeweaver as pw

from ..strategies import pipelines

_ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)


def _raw() -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        _ids.map(lambda n: {"Ref": n}),
        st.tuples(_texts, _ids).map(lambda t: {"Fn::Sub": f"{t[0]}-${{{t[1]}}}"}),
        _ids.map(lambda n: {"Fn::GetAtt": [n, "Arn"]}),
        _ids.map(lambda n: {"Fn::ImportValue": n}),
    )
    return st.one_of(
        leaf,
        st.lists(st.one_of(_texts, leaf), min_size=1, max_size=3).map(lambda xs: {"Fn::Join": ["", xs]}),
        st.tuples(_ids, leaf, _texts).map(lambda t: {"Fn::If": [t[0], t[1], t[2]]}),
    )


expressions = _raw().map(pw.Expression.of)


@st.composite
def pipelines_with_expressions(draw: st.DrawFn) -> pw.Pipeline:
    """A valid pipeline whose role, store locations, configuration values and more are expressions."""
    pipeline = draw(pipelines())

    def maybe(value: Any) -> Any:
        return draw(expressions) if draw(st.booleans()) else value

    stages = []
    for stage in pipeline.stages:
        actions = []
        for action in stage.actions:
            config = {k: maybe(v) for k, v in action.configuration.items()}
            envs = [attrs.evolve(e, value=maybe(e.value)) for e in action.environment_variables]
            actions.append(
                attrs.evolve(
                    action,
                    configuration=config,
                    environment_variables=envs,
                    role_arn=draw(st.one_of(st.none(), expressions)),
                )
            )
        stages.append(attrs.evolve(stage, actions=actions))
    store = pipeline.artifact_store
    if store is not None:
        store = attrs.evolve(store, location=maybe(store.location))
    return attrs.evolve(
        pipeline,
        name=maybe(pipeline.name),
        role_arn=maybe(pipeline.role_arn),
        stages=stages,
        artifact_store=store,
        variables=[attrs.evolve(v, default_value=maybe(v.default_value)) for v in pipeline.variables],
        tags={"team": "web"} if draw(st.booleans()) else {},
    )
