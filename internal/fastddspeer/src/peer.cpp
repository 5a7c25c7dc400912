// peer.cpp — an independent ROS 2 peer for vla3d's interop tests: eProsima
// Fast DDS (the default DDS of ROS 2) with hand-written type support, each
// message serialised by eProsima Fast CDR, so neither the wire protocol nor
// the encoding shares code with vla3d. It publishes what a robot driver
// publishes (3 RGB-D cameras + camera_info, /tf, /tf_static, /ee_pose,
// /joint_states, the latched /instruction; sensor-data QoS for streams) and
// subscribes to the node's outputs with ROS 2's default QoS, printing one
// line per event on stdout:
//   ready | cmd <sec> <x> <y> <z> | gripper <v> | chunk <bytes> | diag <bytes>
//   big_ok <w>x<h> | big_bad <reason> | stall | resume
//   node <namespace> <name> readers <n> writers <n>   (ros_discovery_info)
// Usage: peer <seconds> <stall_after_s> <stall_for_s>
#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fastcdr/Cdr.h>
#include <fastcdr/FastBuffer.h>
#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/DataReaderListener.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TopicDataType.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>

using namespace eprosima::fastdds::dds;
using eprosima::fastcdr::Cdr;
using eprosima::fastcdr::FastBuffer;
using eprosima::fastrtps::rtps::SerializedPayload_t;

static std::mutex out_mu;
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  std::lock_guard<std::mutex> lk(out_mu);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

// A sample is its CDR bytes, encapsulation header included.
struct Raw {
  std::vector<char> bytes;
};

class RawType : public TopicDataType {
 public:
  explicit RawType(const std::string &name) {
    setName(name.c_str());
    m_typeSize = 8 * 1024 * 1024;
    m_isGetKeyDefined = false;
  }
  bool serialize(void *data, SerializedPayload_t *payload) override {
    auto *r = static_cast<Raw *>(data);
    if (r->bytes.size() > payload->max_size) return false;
    memcpy(payload->data, r->bytes.data(), r->bytes.size());
    payload->length = static_cast<uint32_t>(r->bytes.size());
    payload->encapsulation = r->bytes.size() > 1 && r->bytes[1] == 1 ? CDR_LE : CDR_BE;
    return true;
  }
  bool deserialize(SerializedPayload_t *payload, void *data) override {
    auto *r = static_cast<Raw *>(data);
    r->bytes.assign(reinterpret_cast<char *>(payload->data), reinterpret_cast<char *>(payload->data) + payload->length);
    return true;
  }
  std::function<uint32_t()> getSerializedSizeProvider(void *data) override {
    return [data]() { return static_cast<uint32_t>(static_cast<Raw *>(data)->bytes.size()); };
  }
  void *createData() override { return new Raw(); }
  void deleteData(void *data) override { delete static_cast<Raw *>(data); }
  bool getKey(void *, eprosima::fastrtps::rtps::InstanceHandle_t *, bool) override { return false; }
};

// Encoder: a Fast CDR stream into a growing buffer.
struct Enc {
  std::vector<char> buf;
  FastBuffer fb;
  Cdr cdr;
  explicit Enc(size_t cap) : buf(cap), fb(buf.data(), buf.size()), cdr(fb, Cdr::LITTLE_ENDIANNESS, Cdr::DDS_CDR) {
    cdr.serialize_encapsulation();
  }
  Raw done() {
    Raw r;
    r.bytes.assign(buf.data(), buf.data() + cdr.getSerializedDataLength());
    return r;
  }
};

struct Stamp {
  int32_t sec;
  uint32_t nsec;
};
static Stamp now_stamp() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return Stamp{static_cast<int32_t>(ns / 1000000000), static_cast<uint32_t>(ns % 1000000000)};
}
static void header(Cdr &c, Stamp s, const std::string &frame) {
  c << s.sec << s.nsec;
  c << frame;
}

static Raw image(Stamp s, const std::string &frame, uint32_t w, uint32_t h, const std::string &enc, uint32_t bpp,
                 const std::vector<uint8_t> &data) {
  Enc e(data.size() + 256);
  header(e.cdr, s, frame);
  e.cdr << h << w << enc << static_cast<uint8_t>(0) << static_cast<uint32_t>(w * bpp);
  e.cdr << static_cast<uint32_t>(data.size());
  e.cdr.serializeArray(data.data(), data.size());
  return e.done();
}

static Raw camera_info(Stamp s, const std::string &frame, uint32_t size) {
  Enc e(1024);
  double f = size, c = size / 2.0 - 0.5;
  header(e.cdr, s, frame);
  e.cdr << size << size << std::string("plumb_bob");
  e.cdr << static_cast<uint32_t>(5);
  for (int i = 0; i < 5; i++) e.cdr << 0.0;
  double k[9] = {f, 0, c, 0, f, c, 0, 0, 1};
  double r[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  double p[12] = {f, 0, c, 0, 0, f, c, 0, 0, 0, 1, 0};
  e.cdr.serializeArray(k, 9);
  e.cdr.serializeArray(r, 9);
  e.cdr.serializeArray(p, 12);
  e.cdr << static_cast<uint32_t>(0) << static_cast<uint32_t>(0);                    // binning
  e.cdr << static_cast<uint32_t>(0) << static_cast<uint32_t>(0) << static_cast<uint32_t>(0) << static_cast<uint32_t>(0)
        << static_cast<uint8_t>(0);                                                  // roi
  return e.done();
}

// TFMessage with one camera edge per child: base_link -> <child>, 0.5 m
// ahead, 1 m up, looking down (rotation x=1: 180 degrees about x).
static Raw tf(Stamp s, const std::vector<std::string> &children) {
  Enc e(4096);
  e.cdr << static_cast<uint32_t>(children.size());
  for (auto &ch : children) {
    header(e.cdr, s, "base_link");
    e.cdr << ch;
    e.cdr << 0.5 << 0.0 << 1.0;        // translation
    e.cdr << 1.0 << 0.0 << 0.0 << 0.0;  // rotation x y z w
  }
  return e.done();
}

static Raw pose(Stamp s) {
  Enc e(256);
  header(e.cdr, s, "base_link");
  e.cdr << 0.4 << 0.0 << 0.3 << 0.0 << 0.0 << 0.0 << 1.0;
  return e.done();
}

static Raw joint_states(Stamp s) {
  Enc e(512);
  header(e.cdr, s, "");
  e.cdr << static_cast<uint32_t>(1) << std::string("finger_left");
  e.cdr << static_cast<uint32_t>(1) << 0.02;  // position
  e.cdr << static_cast<uint32_t>(0) << static_cast<uint32_t>(0);
  return e.done();
}

static Raw string_msg(const std::string &s) {
  Enc e(s.size() + 64);
  e.cdr << s;
  return e.done();
}

static std::vector<uint8_t> big_pattern(uint32_t w, uint32_t h) {
  std::vector<uint8_t> d(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < d.size(); i++) d[i] = static_cast<uint8_t>((i * 31 + i / 7) & 0xff);
  return d;
}

class Listener : public DataReaderListener {
 public:
  explicit Listener(std::string what) : what_(std::move(what)) {}
  void on_data_available(DataReader *reader) override {
    Raw r;
    SampleInfo info;
    while (reader->take_next_sample(&r, &info) == ReturnCode_t::RETCODE_OK) {
      if (!info.valid_data) continue;
      handle(r);
    }
  }
  void on_requested_incompatible_qos(DataReader *, const RequestedIncompatibleQosStatus &s) override {
    say("qos_incompatible %s policy %u", what_.c_str(), s.last_policy_id);
  }

 private:
  void handle(const Raw &r) {
    std::vector<char> b = r.bytes;
    FastBuffer fb(b.data(), b.size());
    Cdr c(fb, Cdr::DEFAULT_ENDIAN, Cdr::DDS_CDR);
    try {
      c.read_encapsulation();
      if (what_ == "cmd") {
        int32_t sec;
        uint32_t nsec;
        std::string frame;
        double x, y, z, qx, qy, qz, qw;
        c >> sec >> nsec >> frame >> x >> y >> z >> qx >> qy >> qz >> qw;
        say("cmd %d.%09u %.6f %.6f %.6f %s", sec, nsec, x, y, z, frame.c_str());
      } else if (what_ == "gripper") {
        double v;
        c >> v;
        say("gripper %.4f", v);
      } else if (what_ == "big") {
        int32_t sec;
        uint32_t nsec, h, w, step, n;
        std::string frame, enc;
        uint8_t be;
        c >> sec >> nsec >> frame >> h >> w >> enc >> be >> step >> n;
        std::vector<uint8_t> d(n);
        c.deserializeArray(d.data(), n);
        if (w != 1280 || h != 720 || enc != "rgb8" || step != w * 3 || d != big_pattern(w, h))
          say("big_bad %ux%u %s %u bytes", w, h, enc.c_str(), n);
        else
          say("big_ok %ux%u", w, h);
      } else if (what_ == "discovery") {
        // rmw_dds_common/ParticipantEntitiesInfo with Iron+ 16-byte gids.
        uint8_t gid[16];
        c.deserializeArray(gid, 16);
        uint32_t nodes;
        c >> nodes;
        for (uint32_t i = 0; i < nodes; i++) {
          std::string ns, name;
          uint32_t nr, nw;
          c >> ns >> name >> nr;
          for (uint32_t k = 0; k < nr; k++) c.deserializeArray(gid, 16);
          c >> nw;
          for (uint32_t k = 0; k < nw; k++) c.deserializeArray(gid, 16);
          say("node %s %s readers %u writers %u", ns.c_str(), name.c_str(), nr, nw);
        }
      } else {
        say("%s %zu", what_.c_str(), r.bytes.size());
      }
    } catch (std::exception &e) {
      say("decode_error %s %s", what_.c_str(), e.what());
    }
  }
  std::string what_;
};

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 10, stall_after = argc > 2 ? atof(argv[2]) : -1,
         stall_for = argc > 3 ? atof(argv[3]) : 0;
  auto *factory = DomainParticipantFactory::get_instance();
  DomainParticipantQos pq;
  pq.name("fake_robot_fastdds");
  const char *ud = "enclave=/;";
  pq.user_data().data_vec(std::vector<eprosima::fastrtps::rtps::octet>(ud, ud + strlen(ud)));
  const char *dom = getenv("ROS_DOMAIN_ID");
  DomainParticipant *part = factory->create_participant(dom ? atoi(dom) : 0, pq);
  if (!part) {
    fprintf(stderr, "create_participant failed\n");
    return 1;
  }
  Publisher *pub = part->create_publisher(PUBLISHER_QOS_DEFAULT);
  Subscriber *sub = part->create_subscriber(SUBSCRIBER_QOS_DEFAULT);

  std::vector<TypeSupport> keep;
  auto topic = [&](const std::string &name, const std::string &type) {
    TypeSupport ts(new RawType(type));
    ts.register_type(part);
    keep.push_back(ts);
    Topic *t = part->find_topic(name, Duration_t(0, 0));
    return t ? t : part->create_topic(name, type, TOPIC_QOS_DEFAULT);
  };
  auto sensor_qos = [] {
    DataWriterQos q = DATAWRITER_QOS_DEFAULT;
    q.reliability().kind = BEST_EFFORT_RELIABILITY_QOS;
    q.durability().kind = VOLATILE_DURABILITY_QOS;
    q.history().kind = KEEP_LAST_HISTORY_QOS;
    q.history().depth = 5;
    q.publish_mode().kind = ASYNCHRONOUS_PUBLISH_MODE;
    q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::PREALLOCATED_WITH_REALLOC_MEMORY_MODE;
    return q;
  };
  auto reliable_qos = [](bool latched) {
    DataWriterQos q = DATAWRITER_QOS_DEFAULT;
    q.reliability().kind = RELIABLE_RELIABILITY_QOS;
    q.durability().kind = latched ? TRANSIENT_LOCAL_DURABILITY_QOS : VOLATILE_DURABILITY_QOS;
    q.history().kind = KEEP_LAST_HISTORY_QOS;
    q.history().depth = latched ? 1 : 10;
    q.publish_mode().kind = ASYNCHRONOUS_PUBLISH_MODE;
    q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::PREALLOCATED_WITH_REALLOC_MEMORY_MODE;
    return q;
  };
  auto writer = [&](const std::string &name, const std::string &type, const DataWriterQos &q) {
    DataWriter *w = pub->create_datawriter(topic("rt" + name, type), q);
    if (!w) {
      fprintf(stderr, "create_datawriter %s failed\n", name.c_str());
      exit(1);
    }
    return w;
  };
  std::vector<Listener *> listeners;
  auto reader = [&](const std::string &name, const std::string &type, const std::string &what) {
    DataReaderQos q = DATAREADER_QOS_DEFAULT;  // ROS 2 default: reliable, keep last 10, volatile
    q.reliability().kind = RELIABLE_RELIABILITY_QOS;
    q.durability().kind = VOLATILE_DURABILITY_QOS;
    q.history().kind = KEEP_LAST_HISTORY_QOS;
    q.history().depth = 10;
    bool discovery = what == "discovery";
    if (discovery) {  // as rmw reads it: transient local, every participant's latest
      q.durability().kind = TRANSIENT_LOCAL_DURABILITY_QOS;
    }
    q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::PREALLOCATED_WITH_REALLOC_MEMORY_MODE;
    auto *l = new Listener(what);
    listeners.push_back(l);
    if (!sub->create_datareader(topic(discovery ? name : "rt" + name, type), q, l)) {
      fprintf(stderr, "create_datareader %s failed\n", name.c_str());
      exit(1);
    }
  };
  const std::string IMG = "sensor_msgs::msg::dds_::Image_", INFO = "sensor_msgs::msg::dds_::CameraInfo_",
                    TF = "tf2_msgs::msg::dds_::TFMessage_";
  const int size = 64;
  std::vector<std::string> cams = {"c0", "c1", "c2"};
  std::vector<DataWriter *> color, depth, info;
  for (auto &c : cams) {
    color.push_back(writer("/" + c + "/color/image_raw", IMG, sensor_qos()));
    depth.push_back(writer("/" + c + "/depth/image_raw", IMG, sensor_qos()));
    info.push_back(writer("/" + c + "/color/camera_info", INFO, sensor_qos()));
  }
  DataWriter *tf_static = writer("/tf_static", TF, reliable_qos(true));
  DataWriter *tf_dyn = writer("/tf", TF, sensor_qos());
  DataWriter *ee = writer("/ee_pose", "geometry_msgs::msg::dds_::PoseStamped_", sensor_qos());
  DataWriter *joints = writer("/joint_states", "sensor_msgs::msg::dds_::JointState_", sensor_qos());
  DataWriter *instr = writer("/instruction", "std_msgs::msg::dds_::String_", reliable_qos(true));
  DataWriter *big = writer("/interop/big_image", IMG, reliable_qos(false));
  reader("/vla3d/command_pose", "geometry_msgs::msg::dds_::PoseStamped_", "cmd");
  reader("/vla3d/command_gripper", "std_msgs::msg::dds_::Float64_", "gripper");
  reader("/vla3d/action_chunk", "trajectory_msgs::msg::dds_::JointTrajectory_", "chunk");
  reader("/diagnostics", "diagnostic_msgs::msg::dds_::DiagnosticArray_", "diag");
  reader("/interop/big_image_back", IMG, "big");
  reader("ros_discovery_info", "rmw_dds_common::msg::dds_::ParticipantEntitiesInfo_", "discovery");

  std::vector<uint8_t> rgb(size * size * 3), dep(size * size * 2);
  for (size_t i = 0; i < rgb.size(); i++) rgb[i] = static_cast<uint8_t>(i * 7);
  for (int i = 0; i < size * size; i++) {
    uint16_t mm = static_cast<uint16_t>(800 + i % size);
    dep[2 * i] = mm & 0xff;  // 16UC1 little endian (is_bigendian 0)
    dep[2 * i + 1] = mm >> 8;
  }
  Raw r = tf(Stamp{0, 0}, {"c0_optical", "c1_optical"});
  tf_static->write(&r);
  r = string_msg("pick the cube");
  instr->write(&r);
  std::vector<uint8_t> bigdata = big_pattern(1280, 720);
  say("ready");

  auto start = std::chrono::steady_clock::now();
  bool stalled = false;
  int tick = 0;
  for (;;) {
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (t > seconds) break;
    bool stall = stall_after >= 0 && t >= stall_after && t < stall_after + stall_for;
    if (stall != stalled) {
      stalled = stall;
      say(stall ? "stall" : "resume");
    }
    Stamp s = now_stamp();
    r = pose(s);
    ee->write(&r);
    r = joint_states(s);
    joints->write(&r);
    if (!stalled) {
      for (size_t i = 0; i < cams.size(); i++) {
        std::string frame = cams[i] + "_optical";
        r = camera_info(s, frame, size);
        info[i]->write(&r);
        r = image(s, frame, size, size, "rgb8", 3, rgb);
        color[i]->write(&r);
        r = image(s, frame, size, size, "16UC1", 2, dep);
        depth[i]->write(&r);
      }
      r = tf(s, {"c2_optical"});  // the "wrist" camera moves: /tf stamped like its images
      tf_dyn->write(&r);
    }
    if (tick % 15 == 0) {
      r = image(s, "big", 1280, 720, "rgb8", 3, bigdata);
      big->write(&r);
    }
    tick++;
    std::this_thread::sleep_for(std::chrono::milliseconds(66));  // 15 Hz
  }
  part->delete_contained_entities();
  factory->delete_participant(part);
  for (auto *l : listeners) delete l;
  say("done");
  return 0;
}
