#!/usr/bin/env python3
"""RabbitMQ tutorial 2, worker.py, with pika, as published (durable task_queue, fair
dispatch, manual acks). Changes for the tests: the broker comes from AMQP_URL, a '.' is
worth WORK_UNIT_MS instead of a second, --max N stops after N tasks, and --quorum declares
task_queue as the current tutorials do (durable, quorum)."""
import os
import sys
import time

import pika

quorum = '--quorum' in sys.argv[1:]

unit = int(os.environ.get('WORK_UNIT_MS', '1000')) / 1000
max_tasks = int(sys.argv[sys.argv.index('--max') + 1]) if '--max' in sys.argv else None
done = 0

connection = pika.BlockingConnection(
    pika.URLParameters(os.environ.get('AMQP_URL', 'amqp://guest:guest@localhost:5672/%2F')))
channel = connection.channel()

if quorum:
    channel.queue_declare(queue='task_queue', durable=True, arguments={'x-queue-type': 'quorum'})
else:
    channel.queue_declare(queue='task_queue', durable=True)
print(' [*] Waiting for messages. To exit press CTRL+C', flush=True)


def callback(ch, method, properties, body):
    global done
    print(f" [x] Received {body.decode()}", flush=True)
    time.sleep(body.count(b'.') * unit)
    print(" [x] Done", flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)
    done += 1
    if max_tasks is not None and done >= max_tasks:
        ch.stop_consuming()


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue='task_queue', on_message_callback=callback)

channel.start_consuming()
connection.close()
