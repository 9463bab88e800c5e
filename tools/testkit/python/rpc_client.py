#!/usr/bin/env python3
"""RabbitMQ tutorial 6, rpc_client.py, with pika, as published (a server-named exclusive
callback queue, a fresh correlation_id per call, the reply matched on it). Changes for the
tests: the broker comes from AMQP_URL, n comes from the first argument (default 30), and
each line is flushed as printed."""
import os
import sys
import uuid

import pika


class FibonacciRpcClient(object):

    def __init__(self):
        self.connection = pika.BlockingConnection(
            pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))

        self.channel = self.connection.channel()

        result = self.channel.queue_declare(queue='', exclusive=True)
        self.callback_queue = result.method.queue

        self.channel.basic_consume(
            queue=self.callback_queue,
            on_message_callback=self.on_response,
            auto_ack=True)

        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:
            self.response = body

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(
            exchange='',
            routing_key='rpc_queue',
            properties=pika.BasicProperties(
                reply_to=self.callback_queue,
                correlation_id=self.corr_id,
            ),
            body=str(n))
        while self.response is None:
            self.connection.process_data_events(time_limit=None)
        return int(self.response)


n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
fibonacci_rpc = FibonacciRpcClient()

print(f" [x] Requesting fib({n})", flush=True)
response = fibonacci_rpc.call(n)
print(f" [.] Got {response}", flush=True)
