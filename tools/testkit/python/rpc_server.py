#!/usr/bin/env python3
"""RabbitMQ tutorial 6, rpc_server.py, with pika, as published (the Fibonacci server on a
classic, non-durable 'rpc_queue', prefetch 1, the reply through reply_to with the request's
correlation_id, acked after replying). Changes for the tests: the broker comes from AMQP_URL,
each line is flushed as printed, and --max N stops after N requests."""
import os
import sys

import pika

max_requests = int(sys.argv[sys.argv.index('--max') + 1]) if '--max' in sys.argv else None
answered = 0

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

channel.queue_declare(queue='rpc_queue')


def fib(n):
    if n == 0:
        return 0
    elif n == 1:
        return 1
    else:
        return fib(n - 1) + fib(n - 2)


def on_request(ch, method, props, body):
    global answered
    n = int(body)

    print(f" [.] fib({n})", flush=True)
    response = fib(n)

    ch.basic_publish(exchange='',
                     routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id=props.correlation_id),
                     body=str(response))
    ch.basic_ack(delivery_tag=method.delivery_tag)
    answered += 1
    if max_requests is not None and answered >= max_requests:
        ch.stop_consuming()


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue='rpc_queue', on_message_callback=on_request)

print(" [x] Awaiting RPC requests", flush=True)
channel.start_consuming()
connection.close()
