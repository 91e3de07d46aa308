"""Job credentials and secret properties of custom-action jobs never leave the JobWorker, raw or encoded.

A Stubber-checked CodePipeline client delivers jobs whose ``artifactCredentials`` and secret
configuration property are canaries; the handler logs them, returns them and raises with them.
Everything the worker sends to AWS, logs, returns and reprs is searched.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pipeweaver.aws import ConfigurationProperty, CustomActionType, JobWorker
from pipeweaver.execution import ActionContext, ActionResult

from .test_secrets import encodings

CREDS = {
    "accessKeyId": "AKIA-CANARYak1",
    "secretAccessKey": 'sk/"<&>+CANARYsk2=',
    "sessionToken": "st-CANARYst3 +/=\u00e9",
}
API_TOKEN = 'api-"&<CANARYapi4>'
TYPE = CustomActionType(
    category="Deploy",
    provider="CanaryDeploy",
    version="1",
    configuration_properties=[ConfigurationProperty(name="ApiToken", required=True, secret=True)],
)
TYPE_ID = {"category": "Deploy", "owner": "Custom", "provider": "CanaryDeploy", "version": "1"}


def job(job_id: str) -> dict[str, Any]:
    return {
        "id": job_id,
        "nonce": "n1",
        "accountId": "123456789012",
        "data": {
            "actionTypeId": TYPE_ID,
            "actionConfiguration": {"configuration": {"ApiToken": API_TOKEN}},
            "pipelineContext": {
                "pipelineName": "web",
                "stage": {"name": "Deploy"},
                "action": {"name": "Canary", "actionExecutionId": f"ae-{job_id}"},
                "pipelineExecutionId": "3137f7cb-7cf7-4b4c-a1e1-4a6e5b5f0a11",
            },
            "artifactCredentials": CREDS,
        },
    }


def test_job_credentials_and_secret_properties_never_leak(caplog: pytest.LogCaptureFixture) -> None:
    """Logged, returned and raised canaries reach neither AWS, the log, the outcomes nor any repr."""
    contexts: list[str] = []
    sent: list[str] = []

    def handler(ctx: ActionContext) -> ActionResult:
        contexts.append(repr(ctx))
        for value in (*CREDS.values(), ctx.configuration["ApiToken"]):
            ctx.log(f"using {value}")
        if ctx.action.name == "Canary" and "first" in sent[-1]:
            raise RuntimeError(f"login failed for {CREDS['secretAccessKey']} with {API_TOKEN}")
        return ActionResult(output_variables={"Token": API_TOKEN}, summary=f"deployed with {CREDS['sessionToken']}")

    client = boto3.client("codepipeline", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    client.meta.events.register("provide-client-params.codepipeline.*", lambda params, **_: sent.append(str(params)))
    caplog.set_level(logging.DEBUG)
    first, second = "11111111-aaaa-bbbb-cccc-dddddddddddd", "22222222-aaaa-bbbb-cccc-dddddddddddd"
    poll = {"actionTypeId": TYPE_ID, "maxBatchSize": ANY}
    with Stubber(client) as stub:
        stub.add_response("poll_for_jobs", {"jobs": [job(first)]}, poll)
        stub.add_response("acknowledge_job", {"status": "InProgress"}, {"jobId": first, "nonce": "n1"})
        stub.add_response("put_job_failure_result", {}, {"jobId": first, "failureDetails": ANY})
        stub.add_response("poll_for_jobs", {"jobs": [job(second)]}, poll)
        stub.add_response("acknowledge_job", {"status": "InProgress"}, {"jobId": second, "nonce": "n1"})
        stub.add_response(
            "put_job_success_result", {}, {"jobId": second, "executionDetails": ANY, "outputVariables": ANY}
        )
        worker = JobWorker(TYPE, handler, client=client)
        sent.append("first")
        outcomes = worker.run_once()
        sent.append("second")
        outcomes += worker.run_once()
        stub.assert_no_pending_responses()

    text = "\n".join([caplog.text, *sent, *contexts, repr(worker), *map(repr, outcomes)])
    found = [
        f"{name}/{form}"
        for name, value in {**CREDS, "ApiToken": API_TOKEN}.items()
        for form, encoded in encodings(value).items()
        if encoded in text
    ]

    assert ["failed", "succeeded"] == [o.outcome for o in outcomes]
    assert "****" in caplog.text
    assert [] == found
