// Fallback Kafka "broker" for the integration tests when Maven Central cannot be reached: serves
// librdkafka's mock cluster on 127.0.0.1 until SIGTERM/SIGINT and writes its bootstrap address
// to the file named by argv[1]. Other processes (logship, kcat) connect to it like a broker.
// SIGUSR1 takes the broker down (connections refused), SIGUSR2 brings it back with its data:
// how kafka.sh kill / start act on the mock.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: kafka_mock_cluster BOOTSTRAP_FILE\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, 1);
  if (mc == nullptr) {
    std::fprintf(stderr, "cannot create the mock cluster\n");
    return 1;
  }
  const std::string path = argv[1];
  {
    std::ofstream out(path + ".tmp");
    out << rd_kafka_mock_cluster_bootstraps(mc) << "\n";
  }
  std::rename((path + ".tmp").c_str(), path.c_str());
  std::fprintf(stderr, "mock cluster at %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && (sig == SIGUSR1 || sig == SIGUSR2)) {
    if (sig == SIGUSR1) {
      rd_kafka_mock_broker_set_down(mc, 1);
    } else {
      rd_kafka_mock_broker_set_up(mc, 1);
    }
    std::fprintf(stderr, "mock broker %s\n", sig == SIGUSR1 ? "down" : "up");
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
