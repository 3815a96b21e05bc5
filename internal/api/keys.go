package api

import (
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
)

// keyJSON is an APIKey as answered; Key is set only when the key was just created.
type keyJSON struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id,omitempty"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	CreatedAt timestamp `json:"created_at"`
	Key       string    `json:"key,omitempty"`
}

func toKeyJSON(k *domain.APIKey) keyJSON {
	return keyJSON{ID: k.ID, AppID: k.AppID, Name: k.Name, Prefix: k.Prefix, CreatedAt: timestamp(k.CreatedAt)}
}

// keyInput is the body of POST /v1/apps/{app}/api-keys and POST /v1/api-keys.
type keyInput struct {
	Name opt[string] `json:"name"`
}

// createAppKey serves POST /v1/apps/{app}/api-keys.
func (s *server) createAppKey(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.createKey(w, r, c.appID)
}

// createAdminKey serves POST /v1/api-keys.
func (s *server) createAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.createKey(w, r, "")
}

// createKey creates an API key for appID, or an admin key when appID is "".
func (s *server) createKey(w http.ResponseWriter, r *http.Request, appID string) error {
	var in keyInput
	if err := decodeBody(w, r, maxBodyBytes, true, &in); err != nil {
		return err
	}
	if err := domain.CheckName("name", in.Name.v, 0); err != nil {
		return err
	}
	key, prefix, hash := NewAPIKey()
	k := &domain.APIKey{ID: ids.New("key"), AppID: appID, Name: in.Name.v, Prefix: prefix, Hash: hash, CreatedAt: s.timeNow()}
	if err := s.svc.CreateAPIKey(r.Context(), k); err != nil {
		return storeError(err, "app", appID)
	}
	out := toKeyJSON(k)
	out.Key = key
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// listAppKeys serves GET /v1/apps/{app}/api-keys.
func (s *server) listAppKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.listKeys(w, r, c.appID)
}

// listAdminKeys serves GET /v1/api-keys.
func (s *server) listAdminKeys(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.listKeys(w, r, "")
}

func (s *server) listKeys(w http.ResponseWriter, r *http.Request, appID string) error {
	p, err := pageQuery(r.URL, "key")
	if err != nil {
		return err
	}
	keys, next, err := s.store.ListAPIKeys(r.Context(), appID, p)
	return writePage(w, "API keys", keys, next, err, toKeyJSON)
}

// deleteAppKey serves DELETE /v1/apps/{app}/api-keys/{key_id}.
func (s *server) deleteAppKey(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.deleteKey(w, r, c.appID)
}

// deleteAdminKey serves DELETE /v1/api-keys/{key_id}.
func (s *server) deleteAdminKey(w http.ResponseWriter, r *http.Request, c *call) error {
	return s.deleteKey(w, r, "")
}

func (s *server) deleteKey(w http.ResponseWriter, r *http.Request, appID string) error {
	id := r.PathValue("key_id")
	if err := s.svc.DeleteAPIKey(r.Context(), appID, id); err != nil {
		return storeError(err, "API key", id)
	}
	s.keys.drop(func(k *domain.APIKey) bool { return k.ID == id })
	return noContent(w)
}
