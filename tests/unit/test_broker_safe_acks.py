"""A broker node killed under a consumer (D-2, issue 13's failover): the ack of a
message already handled meets a reset socket. nameko ignores py-amqp's
ConnectionError but not the builtin ConnectionResetError, and a worker thread that
raises kills the whole container — the service then consumes nothing until it is
restarted (seen in tests/integration/test_rabbitmq_cluster.py: no email after the
kill). The platform's queue consumers swallow it: the unacked message goes back to
its queue with its dead channel and its redelivery is handled once."""
import pytest

from shared.runtime.consumer import BrokerSafeQueueConsumer, EventQueueConsumer
from shared.runtime.rpc import QuorumRpcConsumer


class _Channel:
    connection = object()  # nameko acks only on a channel whose connection is alive


class _Message:
    channel = _Channel()

    def __init__(self, error):
        self.error = error

    def ack(self):
        raise self.error

    def requeue(self):
        raise self.error


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"),
                                   BrokenPipeError(32, "Broken pipe"), OSError("socket closed")])
def test_an_ack_or_requeue_on_a_dying_connection_does_not_raise(error):
    consumer = BrokerSafeQueueConsumer()
    consumer.ack_message(_Message(error))
    consumer.requeue_message(_Message(error))


def test_every_consumer_of_the_platform_acks_safely():
    assert issubclass(EventQueueConsumer, BrokerSafeQueueConsumer)
    assert isinstance(QuorumRpcConsumer.queue_consumer, BrokerSafeQueueConsumer)


def test_any_other_error_of_an_ack_still_raises():
    with pytest.raises(ValueError):
        BrokerSafeQueueConsumer().ack_message(_Message(ValueError("a bug")))
