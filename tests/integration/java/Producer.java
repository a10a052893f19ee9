// A foreign producer for the exactness tests: the Java client, as the platform's JVM
// services would use it. Run as a single-file program: java -cp 'libs/*' Producer.java
//
//   Producer.java BOOTSTRAP PREFIX FILE
//
// FILE has one message a line: topic, key and value, tab-separated, the key and the
// value base64-encoded (an empty key field: no key). Keys are partitioned by the
// client's default partitioner (murmur2), records stamped by the client (CreateTime),
// no headers. Prints the number of messages sent and the rate.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class Producer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("key.serializer", ByteArraySerializer.class.getName());
    props.put("value.serializer", ByteArraySerializer.class.getName());
    props.put("enable.idempotence", "true");
    props.put("acks", "all");
    props.put("linger.ms", "5");
    List<String> lines = Files.readAllLines(Path.of(args[2]));
    Base64.Decoder base64 = Base64.getDecoder();
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      for (String line : lines) {
        String[] fields = line.split("\t", -1);
        byte[] key = fields[1].isEmpty() ? null : base64.decode(fields[1]);
        producer.send(new ProducerRecord<>(args[1] + fields[0], key, base64.decode(fields[2])));
      }
      producer.flush();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("sent %d messages in %.2f s (%.0f msgs/s)%n", lines.size(), seconds,
        lines.size() / seconds);
  }
}
