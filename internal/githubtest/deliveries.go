package githubtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Delivery is one webhook delivery attempt, as the deliveries API shows it.
type Delivery struct {
	ID             int64
	GUID           string // X-GitHub-Delivery; a redelivery keeps it
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
	URL            string
	Redelivery     bool
	StatusCode     int    // 0 when no answer came
	Status         string // "OK", "Invalid HTTP Response: 503", "timed out", …
	DeliveredAt    time.Time
	Duration       time.Duration
	RequestHeader  http.Header
	Body           []byte
	ResponseHeader http.Header
	ResponseBody   string
}

// deliveryTimeout is GitHub's: a hook not answered in 10 s has failed.
const deliveryTimeout = 10 * time.Second

// SignatureSHA256 is the X-Hub-Signature-256 value for a body.
func SignatureSHA256(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signatureSHA1(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// newGUID makes a random (version 4) UUID, the form of X-GitHub-Delivery.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// SetWebhook sets where Send and redeliveries post, and the signing secret.
func (s *Server) SetWebhook(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.webhookSecret = url, secret
}

// Send delivers an event to the configured webhook URL (WithWebhook or
// SetWebhook) signed with the configured secret.
func (s *Server) Send(ctx context.Context, event string, body []byte) (Delivery, error) {
	s.mu.Lock()
	url, secret := s.webhookURL, s.webhookSecret
	s.mu.Unlock()
	if url == "" {
		return Delivery{}, errors.New("githubtest: no webhook URL configured (WithWebhook or SetWebhook)")
	}
	return s.Deliver(ctx, url, event, body, secret)
}

// Deliver POSTs a webhook as GitHub does (X-GitHub-Event, a new
// X-GitHub-Delivery GUID, X-Hub-Signature-256, JSON body) and records the
// delivery for the deliveries API. The error is for transport failures; a
// non-2xx answer is recorded and returned in the Delivery.
func (s *Server) Deliver(ctx context.Context, url, event string, body []byte, secret string) (Delivery, error) {
	return s.deliver(ctx, url, event, newGUID(), body, secret, false)
}

func (s *Server) deliver(ctx context.Context, url, event, guid string, body []byte, secret string, redelivery bool) (Delivery, error) {
	var meta struct {
		Action       string `json:"action"`
		Installation *struct {
			ID int64 `json:"id"`
		} `json:"installation"`
		Repository *struct {
			ID int64 `json:"id"`
		} `json:"repository"`
	}
	_ = json.Unmarshal(body, &meta)
	d := Delivery{
		GUID: guid, Event: event, Action: meta.Action, URL: url,
		Redelivery: redelivery, Body: append([]byte(nil), body...),
	}
	if meta.Installation != nil {
		d.InstallationID = meta.Installation.ID
	}
	if meta.Repository != nil {
		d.RepositoryID = meta.Repository.ID
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return d, fmt.Errorf("githubtest: webhook request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/githubtest")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", guid)
	h.Set("X-GitHub-Hook-ID", "1")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(s.cfg.appID, 10))
	if secret != "" {
		h.Set("X-Hub-Signature", signatureSHA1(secret, body))
		h.Set("X-Hub-Signature-256", SignatureSHA256(secret, body))
	}
	d.RequestHeader = h.Clone()
	start := time.Now()
	d.DeliveredAt = s.now()
	resp, err := http.DefaultClient.Do(req)
	d.Duration = time.Since(start)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		d.Status = "timed out"
	case err != nil:
		d.Status = "failed to connect to host"
	default:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		d.StatusCode = resp.StatusCode
		d.ResponseHeader = resp.Header.Clone()
		d.ResponseBody = string(data)
		d.Status = "OK"
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			d.Status = fmt.Sprintf("Invalid HTTP Response: %d", resp.StatusCode)
		}
	}
	s.mu.Lock()
	d.ID = s.nextID()
	stored := d
	s.deliveries = append(s.deliveries, &stored)
	s.mu.Unlock()
	if err != nil {
		return d, fmt.Errorf("githubtest: deliver %s to %s: %w", event, url, err)
	}
	return d, nil
}

// Deliveries returns every delivery attempt, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		out = append(out, *d)
	}
	return out
}

func deliveryItem(d *Delivery) obj {
	var inst, repo any
	if d.InstallationID != 0 {
		inst = d.InstallationID
	}
	if d.RepositoryID != 0 {
		repo = d.RepositoryID
	}
	return obj{
		"id":              d.ID,
		"guid":            d.GUID,
		"delivered_at":    ts(d.DeliveredAt),
		"redelivery":      d.Redelivery,
		"duration":        d.Duration.Seconds(),
		"status":          d.Status,
		"status_code":     d.StatusCode,
		"event":           d.Event,
		"action":          strOrNil(d.Action),
		"installation_id": inst,
		"repository_id":   repo,
		"throttled_at":    nil,
	}
}

// handleListDeliveries lists deliveries newest first with GitHub's cursor
// pagination: the Link header's next URL carries cursor=v1_<id>.
func handleListDeliveries(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	perPage, _ := c.pageSize(30, 100)
	after := int64(-1)
	if cur := c.query("cursor"); cur != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(cur, "v1_"), 10, 64)
		if err != nil {
			c.fail(http.StatusBadRequest, "Invalid cursor")
			return
		}
		after = id
	}
	filter := c.query("status") // success or failure
	var list []*Delivery
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		d := s.deliveries[i]
		if after >= 0 && d.ID >= after {
			continue
		}
		ok := d.StatusCode >= 200 && d.StatusCode <= 299
		if (filter == "success" && !ok) || (filter == "failure" && ok) {
			continue
		}
		list = append(list, d)
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	more := len(list) > perPage
	list = list[:min(len(list), perPage)]
	out := make([]obj, 0, len(list))
	for _, d := range list {
		out = append(out, deliveryItem(d))
	}
	if more {
		q := c.r.URL.Query()
		q.Set("per_page", strconv.Itoa(perPage))
		q.Set("cursor", "v1_"+strconv.FormatInt(list[len(list)-1].ID, 10))
		c.w.Header().Set("Link", fmt.Sprintf("<%s%s?%s>; rel=\"next\"", s.URL, c.r.URL.Path, q.Encode()))
	}
	c.json(http.StatusOK, out)
}

func (c *call) deliveryOf() *Delivery {
	id := c.paramInt("delivery_id")
	for _, d := range c.s.deliveries {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func handleGetDelivery(c *call) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d := c.deliveryOf()
	if d == nil {
		c.notFound()
		return
	}
	headers := func(h http.Header) obj {
		o := obj{}
		for k := range h {
			o[k] = h.Get(k)
		}
		return o
	}
	var payload any
	_ = json.Unmarshal(d.Body, &payload)
	item := deliveryItem(d)
	item["url"] = d.URL
	item["request"] = obj{"headers": headers(d.RequestHeader), "payload": payload}
	item["response"] = obj{"headers": headers(d.ResponseHeader), "payload": strOrNil(d.ResponseBody)}
	c.json(http.StatusOK, item)
}

// handleRedeliver re-sends a delivery with the same GUID to the configured
// webhook URL (or the original one). GitHub answers 202 and delivers in
// the background; here the attempt is made first, so a test sees its
// outcome as soon as the request returns.
func handleRedeliver(c *call) {
	s := c.s
	s.mu.Lock()
	d := c.deliveryOf()
	var url, secret, event, guid string
	var body []byte
	if d != nil {
		url, secret, event, guid, body = d.URL, s.webhookSecret, d.Event, d.GUID, d.Body
		if s.webhookURL != "" {
			url = s.webhookURL
		}
	}
	s.mu.Unlock()
	if d == nil {
		c.notFound()
		return
	}
	_, _ = s.deliver(context.WithoutCancel(c.r.Context()), url, event, guid, body, secret, true)
	c.json(http.StatusAccepted, obj{})
}
