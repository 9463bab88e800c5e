#!/usr/bin/env python3
"""RabbitMQ tutorial 4, emit_log_direct.py, with pika, as published (a non-durable direct
exchange 'direct_logs', routing key = severity). One change for the tests: the broker comes
from AMQP_URL instead of 'localhost'."""
import os
import sys

import pika

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

channel.exchange_declare(exchange='direct_logs', exchange_type='direct')

severity = sys.argv[1] if len(sys.argv) > 1 else 'info'
message = ' '.join(sys.argv[2:]) or 'Hello World!'
channel.basic_publish(exchange='direct_logs', routing_key=severity, body=message)
print(f" [x] Sent {severity!r}:{message!r}", flush=True)
connection.close()
