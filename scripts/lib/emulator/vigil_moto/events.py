"""EventBridge rules delivering to a CloudWatch Logs group: moto writes the log event's
timestamp as a float (milliseconds with a fraction), which AWS's model (a long) and so the Rust
SDK refuse; here it is whole milliseconds, as CloudWatch Logs keeps it."""

import json

from moto.core.utils import iso_8601_datetime_without_milliseconds, unix_time_millis, utcfromtimestamp
from moto.events.models import Rule
from moto.moto_api._internal import mock_random


def send_to_cw_log_group(self, name, event):
    from moto.logs import logs_backends

    if "time" in event:
        event["time"] = iso_8601_datetime_without_milliseconds(utcfromtimestamp(event["time"]))
    stream = str(mock_random.uuid4())
    backend = logs_backends[self.account_id][self.region_name]
    backend.create_log_stream(name, stream)
    backend.put_log_events(name, stream, [{"timestamp": int(unix_time_millis()), "message": json.dumps(event)}])


Rule._send_to_cw_log_group = send_to_cw_log_group
