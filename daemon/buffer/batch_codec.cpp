#include "daemon/buffer/batch_codec.h"

#include <cstring>

namespace logship {
namespace {

constexpr uint8_t kVersion = 1;
// Far above anything the pipeline makes; a record claiming more is corrupt.
constexpr uint64_t kMaxCount = 1u << 24;

void put_u32(std::string& o, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  o.append(b, 4);
}

void put_u64(std::string& o, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  o.append(b, 8);
}

void put_varint(std::string& o, uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  o.append(b, static_cast<std::size_t>(n));
}

void put_bytes(std::string& o, std::string_view s) {
  put_varint(o, s.size());
  o.append(s);
}

void put_value(std::string& o, const Value& v) {
  o.push_back(static_cast<char>(v.type));
  switch (v.type) {
    case ValueType::kString:
    case ValueType::kRawJson: put_bytes(o, v.s); break;
    case ValueType::kInt:
      put_varint(o, (static_cast<uint64_t>(v.i) << 1) ^ static_cast<uint64_t>(v.i >> 63));
      break;
    case ValueType::kDouble: {
      uint64_t bits;
      std::memcpy(&bits, &v.d, 8);
      put_u64(o, bits);
      break;
    }
    case ValueType::kBool: o.push_back(v.b ? 1 : 0); break;
    case ValueType::kNull: break;
  }
}

void encode_source(const SourceInfo& s, std::string& o) {
  o.clear();
  put_bytes(o, s.input);
  put_bytes(o, s.key);
  put_varint(o, s.tags.size());
  for (const Tag& t : s.tags) {
    put_bytes(o, t.key);
    o.push_back(static_cast<char>(t.type));
    put_bytes(o, t.value);
  }
  put_varint(o, s.labels.size());
  for (const auto& [k, v] : s.labels) {
    put_bytes(o, k);
    put_bytes(o, v);
  }
  // Last and optional: blocks written before it existed still decode.
  if (!s.file_path.empty()) put_bytes(o, s.file_path);
}

// Bounds-checked reading of a record; every getter returns false past the end.
class Reader {
 public:
  explicit Reader(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}
  bool u8(uint8_t* v) {
    if (p_ == end_) return false;
    *v = static_cast<uint8_t>(*p_++);
    return true;
  }
  bool u32(uint32_t* v) {
    if (end_ - p_ < 4) return false;
    const auto* u = reinterpret_cast<const unsigned char*>(p_);
    *v = uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
    p_ += 4;
    return true;
  }
  bool u64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    uint64_t r = 0;
    for (int i = 7; i >= 0; --i) r = (r << 8) | static_cast<unsigned char>(p_[i]);
    *v = r;
    p_ += 8;
    return true;
  }
  bool varint(uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto b = static_cast<unsigned char>(*p_++);
      r |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) {
        *v = r;
        return true;
      }
    }
    return false;
  }
  bool bytes(std::string_view* s) {
    uint64_t n;
    if (!varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *s = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

bool valid_type(uint8_t t) { return t <= static_cast<uint8_t>(ValueType::kRawJson); }

bool decode_source(std::string_view block, SourceInfo* s) {
  Reader r(block);
  std::string_view input, key;
  uint64_t ntags, nlabels;
  if (!r.bytes(&input) || !r.bytes(&key) || !r.varint(&ntags) || ntags > r.left()) return false;
  s->input = input;
  s->key = key;
  s->tags.reserve(ntags);
  for (uint64_t i = 0; i < ntags; ++i) {
    std::string_view k, v;
    uint8_t type;
    if (!r.bytes(&k) || !r.u8(&type) || !valid_type(type) || !r.bytes(&v)) return false;
    s->tags.push_back(Tag{std::string(k), static_cast<ValueType>(type), std::string(v)});
  }
  if (!r.varint(&nlabels) || nlabels > r.left()) return false;
  s->labels.reserve(nlabels);
  for (uint64_t i = 0; i < nlabels; ++i) {
    std::string_view k, v;
    if (!r.bytes(&k) || !r.bytes(&v)) return false;
    s->labels.emplace_back(std::string(k), std::string(v));
  }
  if (r.left() > 0) {
    std::string_view path;
    if (!r.bytes(&path)) return false;
    s->file_path = path;
  }
  return r.left() == 0;
}

bool decode_value(Reader& r, Batch& b, Value* v) {
  uint8_t type;
  if (!r.u8(&type) || !valid_type(type)) return false;
  switch (static_cast<ValueType>(type)) {
    case ValueType::kString:
    case ValueType::kRawJson: {
      std::string_view s;
      if (!r.bytes(&s)) return false;
      *v = type == static_cast<uint8_t>(ValueType::kString) ? Value::string(b.copy(s))
                                                            : Value::raw_json(b.copy(s));
      return true;
    }
    case ValueType::kInt: {
      uint64_t z;
      if (!r.varint(&z)) return false;
      *v = Value::integer(static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1)));
      return true;
    }
    case ValueType::kDouble: {
      uint64_t bits;
      if (!r.u64(&bits)) return false;
      double d;
      std::memcpy(&d, &bits, 8);
      *v = Value::real(d);
      return true;
    }
    case ValueType::kBool: {
      uint8_t x;
      if (!r.u8(&x) || x > 1) return false;
      *v = Value::boolean(x == 1);
      return true;
    }
    case ValueType::kNull: *v = Value(); return true;
  }
  return false;
}

}  // namespace

void BatchEncoder::encode(const Batch& b, std::string& out) {
  if (cached_source_ != &b.source() || cached_owner_ != b.source_ptr()) {
    encode_source(b.source(), source_block_);
    cached_source_ = &b.source();
    cached_owner_ = b.source_ptr();
  }
  out.clear();
  put_u32(out, static_cast<uint32_t>(b.size()));
  out.push_back(static_cast<char>(kVersion));
  put_bytes(out, source_block_);
  for (const Event& e : b.events()) {
    put_u64(out, static_cast<uint64_t>(e.time_ns));
    put_varint(out, e.offset);
    out.push_back(static_cast<char>(e.stream));
    out.push_back(static_cast<char>(e.flags));
    put_bytes(out, e.message);
    put_varint(out, e.fields.size());
    for (const Field& f : e.fields) {
      put_bytes(out, f.key);
      put_value(out, f.value);
    }
  }
}

uint64_t BatchDecoder::weight(std::string_view prefix) {
  if (prefix.size() < 4) return 1;
  Reader r(prefix);
  uint32_t n = 1;
  r.u32(&n);
  return n;
}

Result<BatchPtr> BatchDecoder::decode(std::string_view record) {
  Reader r(record);
  uint32_t events;
  uint8_t version;
  std::string_view block;
  if (!r.u32(&events) || !r.u8(&version)) {
    return Status::corrupt("record too short");
  }
  if (version != kVersion) {
    return Status::corrupt("unknown record version " + std::to_string(version));
  }
  // Each event takes at least 13 bytes, so a count the record cannot hold is corrupt.
  if (!r.bytes(&block) || events > kMaxCount || events > r.left() / 13) {
    return Status::corrupt("bad header");
  }
  if (!source_ || block != source_block_) {
    auto s = std::make_shared<SourceInfo>();
    if (!decode_source(block, s.get())) {
      return Status::corrupt("bad source block");
    }
    source_block_.assign(block);
    source_ = std::move(s);
  }
  auto batch = std::make_unique<Batch>(source_, events, record.size());
  batch->events().reserve(events);
  for (uint32_t i = 0; i < events; ++i) {
    Event& e = batch->add_event();
    uint64_t time, offset, nfields;
    uint8_t stream, flags;
    std::string_view message;
    if (!r.u64(&time) || !r.varint(&offset) || !r.u8(&stream) || !r.u8(&flags) ||
        stream > static_cast<uint8_t>(Stream::kStderr) || !r.bytes(&message) ||
        !r.varint(&nfields) || nfields > r.left()) {
      return Status::corrupt("bad event " + std::to_string(i));
    }
    e.time_ns = static_cast<int64_t>(time);
    e.offset = offset;
    e.stream = static_cast<Stream>(stream);
    e.flags = flags;
    e.message = batch->copy(message);
    e.fields.reserve(nfields);
    for (uint64_t k = 0; k < nfields; ++k) {
      std::string_view key;
      Value v;
      if (!r.bytes(&key) || !decode_value(r, *batch, &v)) {
        return Status::corrupt("bad field in event " + std::to_string(i));
      }
      e.fields.push_back(Field{batch->copy(key), v});
    }
  }
  if (r.left() != 0) {
    return Status::corrupt("trailing bytes");
  }
  return batch;
}

}  // namespace logship
