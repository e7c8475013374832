package spool

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// key is the bucket key of sequence number seq: 8 bytes, big endian, so
// that keys sort in the order records were added.
func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// Records are stored as 8 bytes of NextAt (unix ns, big endian) then JSON,
// so Claim can skip records that are not due without decoding them. The
// event is kept byte for byte: json.Marshal would rewrite <, > and & in it
// as \u003c… (HTML escaping), and U+2028 and U+2029 likewise, the same
// value in more bytes, which can push an event accepted at the size limit
// over it when it is delivered from the spool.
func encode(r Record) ([]byte, error) {
	var b bytes.Buffer
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(r.NextAt.UnixNano())))
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// appendRecord stores r under the bucket's next sequence number, so records
// keep the order they were added in.
func appendRecord(b *bolt.Bucket, r Record) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return putRecord(b, seq, r)
}

// putRecord stores r under seq, replacing what was there.
func putRecord(b *bolt.Bucket, seq uint64, r Record) error {
	v, err := encode(r)
	if err != nil {
		return err
	}
	return b.Put(key(seq), v)
}

func decode(k, v []byte) (Record, error) {
	var r Record
	if len(v) < 8 {
		return r, errors.New("spool record too short")
	}
	if err := json.Unmarshal(v[8:], &r); err != nil {
		return r, err
	}
	r.Seq = binary.BigEndian.Uint64(k)
	return r, nil
}
