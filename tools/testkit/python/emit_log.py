#!/usr/bin/env python3
"""RabbitMQ tutorial 3, emit_log.py, with pika, as published (a non-durable fanout exchange
'logs'). One change for the tests: the broker comes from AMQP_URL instead of 'localhost'."""
import os
import sys

import pika

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

channel.exchange_declare(exchange='logs', exchange_type='fanout')

message = ' '.join(sys.argv[1:]) or "info: Hello World!"
channel.basic_publish(exchange='logs', routing_key='', body=message)
print(f" [x] Sent {message!r}", flush=True)
connection.close()
